import { WsError } from '../errors.js'

/** PCM16 samples to floats in [-1, 1). */
export function int16ToFloat32(input: Int16Array): Float32Array {
  const out = new Float32Array(input.length)
  for (let i = 0; i < input.length; i++) out[i] = input[i]! / 32768
  return out
}

/** Floats to PCM16, clamped to [-1, 1] and rounded; NaN becomes 0. */
export function float32ToInt16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length)
  for (let i = 0; i < input.length; i++) {
    const s = input[i]!
    const clamped = s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s
    out[i] = clamped < 0 ? Math.round(clamped * 32768) : Math.round(clamped * 32767)
  }
  return out
}

/**
 * Little-endian PCM16 bytes (e.g. a WebSocket binary frame) to floats. Works at any byte
 * offset (Node buffers are often not 2-byte aligned). Odd byte counts throw `invalid_audio`.
 */
export function decodePcm16le(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 2 !== 0) {
    throw new WsError(
      'invalid_audio',
      `pcm_s16le audio must have an even number of bytes, got ${bytes.byteLength}`,
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Float32Array(bytes.byteLength / 2)
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768
  return out
}

/**
 * Little-endian float32 bytes to floats, at any byte offset. A byte count that is not a
 * multiple of 4, or a non-finite sample, throws `invalid_audio`.
 */
export function decodePcmF32le(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new WsError(
      'invalid_audio',
      `pcm_f32le audio must have a multiple of 4 bytes, got ${bytes.byteLength}`,
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Float32Array(bytes.byteLength / 4)
  for (let i = 0; i < out.length; i++) {
    const s = view.getFloat32(i * 4, true)
    if (!Number.isFinite(s)) throw new WsError('invalid_audio', `pcm_f32le sample ${i} is not finite`)
    out[i] = s
  }
  return out
}

/** Floats to little-endian PCM16 bytes. */
export function encodePcm16le(samples: Float32Array): Uint8Array {
  const pcm = float32ToInt16(samples)
  const out = new Uint8Array(pcm.length * 2)
  const view = new DataView(out.buffer)
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true)
  return out
}

/** Floats to little-endian float32 bytes. */
export function encodePcmF32le(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true)
  return out
}

/** Averages interleaved channels into one. */
export function downmixInterleaved(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved
  const frames = Math.floor(interleaved.length / channels)
  const out = new Float32Array(frames)
  for (let f = 0; f < frames; f++) {
    let sum = 0
    for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c]!
    out[f] = sum / channels
  }
  return out
}

/** Concatenates float arrays. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Float32Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
