import { decodeAlaw, decodeMulaw, readWavHeader, WsError } from '@ws/core'

/** Encodings the drop-in protocols take: 16-bit little-endian PCM, G.711 μ-law and A-law. */
export const INPUT_ENCODINGS = ['linear16', 'mulaw', 'alaw'] as const
export type InputEncoding = (typeof INPUT_ENCODINGS)[number]

/**
 * Audio that arrives in pieces cut anywhere: a PCM16 sample split between two messages is
 * joined, not lost or refused (Deepgram and OpenAI take any byte count). With `sniffWav`, a
 * WAV header at the very start (a client streaming a file as it is) is read for its rate and
 * skipped instead of heard as a click.
 */
export class AudioInput {
  readonly encoding: InputEncoding
  #sampleRate: number
  #carry: Uint8Array | undefined
  #sniff: boolean

  constructor(options: { encoding: InputEncoding; sampleRate: number; sniffWav?: boolean }) {
    this.encoding = options.encoding
    this.#sampleRate = options.sampleRate
    this.#sniff = options.sniffWav ?? false
  }

  /** The rate of the audio, in Hz (a sniffed WAV header's, once read). */
  get sampleRate(): number {
    return this.#sampleRate
  }

  /** The next bytes of the stream as samples (possibly none). */
  decode(bytes: Uint8Array): Float32Array {
    if (this.#sniff) {
      this.#sniff = false
      bytes = this.#skipWavHeader(bytes)
    }
    if (this.encoding === 'mulaw') return decodeMulaw(bytes)
    if (this.encoding === 'alaw') return decodeAlaw(bytes)
    let data = bytes
    if (this.#carry) {
      data = new Uint8Array(this.#carry.length + bytes.length)
      data.set(this.#carry)
      data.set(bytes, this.#carry.length)
      this.#carry = undefined
    }
    const whole = data.length - (data.length % 2)
    if (whole < data.length) this.#carry = data.slice(whole)
    const view = new DataView(data.buffer, data.byteOffset, whole)
    const out = new Float32Array(whole / 2)
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768
    return out
  }

  #skipWavHeader(bytes: Uint8Array): Uint8Array {
    const tag = Buffer.from(bytes.subarray(0, 4)).toString('latin1')
    if (tag !== 'RIFF') return bytes
    // The first message holds the header and only the start of the data: read the header with
    // the data chunk's size set to 0 ("take what is there"), and no data.
    const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf('data', 12, 'latin1')
    let header: ReturnType<typeof readWavHeader>
    try {
      if (at < 0 || at + 8 > bytes.length) throw new Error('no data chunk in the first message')
      // A copy (a Node Buffer's slice() would share, and its buffer is a pool's).
      const probe = new Uint8Array(bytes.subarray(0, at + 8))
      new DataView(probe.buffer, probe.byteOffset, probe.byteLength).setUint32(at + 4, 0, true)
      header = readWavHeader(probe)
    } catch (err) {
      throw new WsError(
        'invalid_audio',
        `The stream starts like a WAV file but its header is not readable: ${(err as Error).message}`,
      )
    }
    if (header.channels !== 1) {
      throw new WsError('invalid_audio', `The WAV stream has ${header.channels} channels; send mono audio`)
    }
    if (header.encoding !== 'pcm' || header.bitsPerSample !== 16) {
      throw new WsError(
        'unsupported_encoding',
        'A WAV stream must be 16-bit PCM; or send raw audio with encoding set',
      )
    }
    this.#sampleRate = header.sampleRate
    return bytes.subarray(header.dataOffset)
  }
}

/** Base64 text as bytes; throws `invalid_audio` for anything that is not base64. */
export function decodeBase64(text: unknown, field: string): Uint8Array {
  if (typeof text !== 'string') throw new WsError('invalid_audio', `${field} must be a base64 string`)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new WsError('invalid_audio', `${field} is not base64`)
  }
  return Buffer.from(text, 'base64')
}
