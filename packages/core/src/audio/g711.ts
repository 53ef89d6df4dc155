/**
 * G.711 decoding (ITU-T G.711): μ-law, as telephony streams (e.g. Twilio media streams)
 * send it, and A-law. Each byte becomes one float in [-1, 1).
 */

function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff
  const sign = u & 0x80
  const exponent = (u >> 4) & 0x07
  const mantissa = u & 0x0f
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
  return sign ? 0 - magnitude : magnitude
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55
  const sign = a & 0x80
  const exponent = (a >> 4) & 0x07
  const mantissa = a & 0x0f
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
  magnitude = magnitude | 0
  return sign ? magnitude : 0 - magnitude
}

const MULAW_TABLE = /* @__PURE__ */ buildTable(mulawToLinear)
const ALAW_TABLE = /* @__PURE__ */ buildTable(alawToLinear)

function buildTable(decode: (byte: number) => number): Float32Array {
  const table = new Float32Array(256)
  for (let i = 0; i < 256; i++) table[i] = decode(i) / 32768
  return table
}

/** μ-law bytes to floats. */
export function decodeMulaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_TABLE[bytes[i]!]!
  return out
}

/** A-law bytes to floats. */
export function decodeAlaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_TABLE[bytes[i]!]!
  return out
}

/** One μ-law byte to its 16-bit linear value (-32124..32124). */
export function mulawByteToInt16(byte: number): number {
  return mulawToLinear(byte & 0xff)
}
