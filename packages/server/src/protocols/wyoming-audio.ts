import { SESSION_OPTIONS, WsError } from '@ws/core'

/** Wyoming's audio format: `rate` in Hz, `width` in bytes per sample, `channels` interleaved. */
export interface WyomingAudioFormat {
  rate: number
  width: number
  channels: number
}

/**
 * Sample widths taken: little-endian PCM of 1 to 4 bytes, signed but for 1 byte, which is
 * unsigned as in WAV files (Wyoming's own converter shifts it by 128).
 */
export const WYOMING_WIDTHS = [1, 2, 3, 4] as const
export const MAX_WYOMING_CHANNELS = 32

/** The format an `audio-start` or `audio-chunk` names; `unsupported_encoding` or `unsupported_sample_rate` otherwise. */
export function wyomingFormat(data: Record<string, unknown>, event: string): WyomingAudioFormat {
  const { rate, width, channels } = data
  const rates = SESSION_OPTIONS.sample_rate
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < rates.min || rate > rates.max)
    throw new WsError(
      'unsupported_sample_rate',
      `${event} rate must be an integer from ${rates.min} to ${rates.max} Hz, got ${JSON.stringify(rate)}`,
    )
  if (!(WYOMING_WIDTHS as readonly unknown[]).includes(width))
    throw new WsError(
      'unsupported_encoding',
      `${event} width must be ${WYOMING_WIDTHS.join(', ')} bytes (PCM), got ${JSON.stringify(width)}`,
    )
  if (
    typeof channels !== 'number' ||
    !Number.isInteger(channels) ||
    channels < 1 ||
    channels > MAX_WYOMING_CHANNELS
  )
    throw new WsError(
      'unsupported_encoding',
      `${event} channels must be an integer from 1 to ${MAX_WYOMING_CHANNELS}, got ${JSON.stringify(channels)}`,
    )
  return { rate, width: width as number, channels }
}

export const sameFormat = (a: WyomingAudioFormat, b: WyomingAudioFormat) =>
  a.rate === b.rate && a.width === b.width && a.channels === b.channels

/**
 * Interleaved PCM of one format as mono float samples at its own rate (channels averaged);
 * the session resamples. A frame cut between two chunks is kept for the next one.
 */
export class WyomingPcm {
  readonly format: WyomingAudioFormat
  #carry: Buffer | undefined

  constructor(format: WyomingAudioFormat) {
    this.format = format
  }

  decode(bytes: Uint8Array): Float32Array {
    const { width, channels } = this.format
    let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (this.#carry) {
      data = Buffer.concat([this.#carry, data])
      this.#carry = undefined
    }
    const frame = width * channels
    const whole = data.length - (data.length % frame)
    if (whole < data.length) this.#carry = Buffer.from(data.subarray(whole))
    const out = new Float32Array(whole / frame)
    const scale = 2 ** (8 * width - 1)
    for (let i = 0; i < out.length; i++) {
      let sum = 0
      for (let c = 0; c < channels; c++) {
        const at = (i * channels + c) * width
        sum += width === 1 ? data[at]! - 128 : data.readIntLE(at, width)
      }
      out[i] = sum / channels / scale
    }
    return out
  }
}
