import { WsError } from '../errors.js'
import { decodeAlaw, decodeMulaw } from './g711.js'

/**
 * WAV (RIFF/WAVE) reading and writing. Reads PCM 8/16/24/32-bit, IEEE float 32/64-bit,
 * μ-law and A-law, plain or WAVE_FORMAT_EXTENSIBLE; every malformed or truncated file gives
 * a {@link WsError} with code `invalid_wav` and a message that says what is wrong.
 */

export interface WavAudio {
  sampleRate: number
  /** One Float32Array per channel, samples in [-1, 1]. */
  channels: Float32Array[]
  /** The stored format, for information. */
  format: { encoding: 'pcm' | 'float' | 'mulaw' | 'alaw'; bitsPerSample: number }
}

const FORMAT_PCM = 1
const FORMAT_FLOAT = 3
const FORMAT_ALAW = 6
const FORMAT_MULAW = 7
const FORMAT_EXTENSIBLE = 0xfffe

function fail(message: string): never {
  throw new WsError('invalid_wav', `Invalid WAV: ${message}`)
}

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  )
}

/** What a WAV file holds, read from its header: enough to know its duration before decoding. */
export interface WavHeader {
  sampleRate: number
  channels: number
  encoding: 'pcm' | 'float' | 'mulaw' | 'alaw'
  bitsPerSample: number
  /** Sample frames (one sample per channel each) in the data chunk. */
  frames: number
  /** Seconds of audio. */
  durationSeconds: number
  /** Where the data chunk's bytes are in the file. */
  dataOffset: number
}

/** Parses a WAV file's header. Throws `invalid_wav` for anything it cannot read exactly. */
export function readWavHeader(bytes: Uint8Array): WavHeader {
  if (!(bytes instanceof Uint8Array)) fail('expected bytes (a Uint8Array or Buffer)')
  if (bytes.byteLength < 12) fail(`file is ${bytes.byteLength} bytes, too short for a RIFF header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const riff = fourcc(view, 0)
  if (riff === 'RIFX') fail('big-endian RIFX files are not supported')
  if (riff !== 'RIFF') fail('not a RIFF file (no "RIFF" at the start)')
  if (fourcc(view, 8) !== 'WAVE') fail('RIFF file is not of type WAVE')

  let fmt:
    | { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number }
    | undefined
  let data: { offset: number; length: number } | undefined
  let offset = 12
  while (offset + 8 <= bytes.byteLength) {
    const id = fourcc(view, offset)
    const size = view.getUint32(offset + 4, true)
    const body = offset + 8
    if (id === 'fmt ') {
      if (size < 16) fail(`fmt chunk is ${size} bytes, needs at least 16`)
      if (body + size > bytes.byteLength) fail('truncated fmt chunk')
      let format = view.getUint16(body, true)
      const channels = view.getUint16(body + 2, true)
      const sampleRate = view.getUint32(body + 4, true)
      const blockAlign = view.getUint16(body + 12, true)
      const bits = view.getUint16(body + 14, true)
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40) fail('WAVE_FORMAT_EXTENSIBLE fmt chunk is too short')
        format = view.getUint16(body + 24, true) // first two bytes of the sub-format GUID
      }
      fmt = { format, channels, sampleRate, blockAlign, bits }
    } else if (id === 'data') {
      if (!fmt) fail('data chunk comes before the fmt chunk')
      const available = bytes.byteLength - body
      // Streaming writers leave the size as 0 or 0xFFFFFFFF: take what is there.
      const length = size === 0 || size === 0xffffffff ? available : size
      if (length > available) fail(`truncated: data chunk says ${length} bytes, ${available} present`)
      data = { offset: body, length }
      break
    }
    offset = body + size + (size % 2)
  }
  if (!fmt) fail('no fmt chunk')
  if (!data) fail('no data chunk')
  const { format, channels, sampleRate, blockAlign, bits } = fmt
  if (channels < 1) fail('zero channels')
  if (sampleRate < 1) fail('sample rate is zero')
  const encoding =
    format === FORMAT_PCM
      ? 'pcm'
      : format === FORMAT_FLOAT
        ? 'float'
        : format === FORMAT_MULAW
          ? 'mulaw'
          : format === FORMAT_ALAW
            ? 'alaw'
            : fail(`unsupported format tag ${format} (PCM, IEEE float, μ-law and A-law are read)`)
  const supportedBits = { pcm: [8, 16, 24, 32], float: [32, 64], mulaw: [8], alaw: [8] }[encoding]
  if (!supportedBits.includes(bits)) fail(`${bits}-bit ${encoding} is not supported`)
  if (blockAlign !== channels * (bits / 8)) {
    fail(`block align ${blockAlign} does not match ${channels} channel(s) of ${bits} bits`)
  }
  if (data.length % blockAlign !== 0)
    fail(`truncated: data is not a whole number of ${blockAlign}-byte frames`)
  const frames = data.length / blockAlign
  return {
    sampleRate,
    channels,
    encoding,
    bitsPerSample: bits,
    frames,
    durationSeconds: frames / sampleRate,
    dataOffset: data.offset,
  }
}

/**
 * Reads `count` sample frames from `first` of a file whose header is `header`, one
 * Float32Array per channel: a long file can be read a piece at a time.
 */
export function readWavFrames(
  bytes: Uint8Array,
  header: WavHeader,
  first: number,
  count: number,
): Float32Array[] {
  const { channels, encoding, bitsPerSample: bits } = header
  const frames = Math.max(0, Math.min(count, header.frames - first))
  const bytesPerSample = bits / 8
  const start = header.dataOffset + first * channels * bytesPerSample
  const out = Array.from({ length: channels }, () => new Float32Array(frames))
  if (encoding === 'mulaw' || encoding === 'alaw') {
    const raw = bytes.subarray(start, start + frames * channels)
    const decoded = encoding === 'mulaw' ? decodeMulaw(raw) : decodeAlaw(raw)
    for (let f = 0; f < frames; f++)
      for (let c = 0; c < channels; c++) out[c]![f] = decoded[f * channels + c]!
    return out
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const read = sampleReader(view, encoding, bits)
  let p = start
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const s = read(p)
      if (!Number.isFinite(s)) fail(`sample ${first + f} of channel ${c} is not finite`)
      out[c]![f] = s
      p += bytesPerSample
    }
  }
  return out
}

/** Parses a WAV file. Throws `invalid_wav` for anything it cannot read exactly. */
export function readWav(bytes: Uint8Array): WavAudio {
  const header = readWavHeader(bytes)
  return {
    sampleRate: header.sampleRate,
    channels: readWavFrames(bytes, header, 0, header.frames),
    format: { encoding: header.encoding, bitsPerSample: header.bitsPerSample },
  }
}

/** Averages channels into one (the first array, reused when there is only one). */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  const [first, ...rest] = channels
  if (rest.length === 0) return first!
  const samples = new Float32Array(first!.length)
  for (const ch of channels) for (let i = 0; i < ch.length; i++) samples[i]! += ch[i]!
  for (let i = 0; i < samples.length; i++) samples[i]! /= channels.length
  return samples
}

function sampleReader(view: DataView, encoding: 'pcm' | 'float', bits: number): (offset: number) => number {
  if (encoding === 'float') {
    return bits === 32 ? (o) => view.getFloat32(o, true) : (o) => view.getFloat64(o, true)
  }
  switch (bits) {
    case 8:
      return (o) => (view.getUint8(o) - 128) / 128
    case 16:
      return (o) => view.getInt16(o, true) / 32768
    case 24:
      return (o) => {
        const v = view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16)
        return v / 8388608
      }
    default:
      return (o) => view.getInt32(o, true) / 2147483648
  }
}

/** Reads a WAV file and averages its channels into one. */
export function readWavMono(bytes: Uint8Array): { sampleRate: number; samples: Float32Array } {
  const wav = readWav(bytes)
  return { sampleRate: wav.sampleRate, samples: mixToMono(wav.channels) }
}

export interface WriteWavOptions {
  /** `pcm16` (default) or `float32`. */
  encoding?: 'pcm16' | 'float32'
}

/** Writes mono or multi-channel audio as a WAV file. */
export function writeWav(
  channels: Float32Array | readonly Float32Array[],
  sampleRate: number,
  options: WriteWavOptions = {},
): Uint8Array {
  const list = channels instanceof Float32Array ? [channels] : channels
  if (list.length === 0) throw new WsError('invalid_audio', 'writeWav needs at least one channel')
  if (!Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new WsError('unsupported_sample_rate', `Invalid sample rate ${sampleRate}`)
  }
  const frames = list[0]!.length
  if (list.some((c) => c.length !== frames)) throw new WsError('invalid_audio', 'Channels differ in length')
  const float = options.encoding === 'float32'
  const bytesPerSample = float ? 4 : 2
  const blockAlign = list.length * bytesPerSample
  const dataLength = frames * blockAlign
  const out = new Uint8Array(44 + dataLength)
  const view = new DataView(out.buffer)
  const writeId = (offset: number, id: string) => {
    for (let i = 0; i < 4; i++) view.setUint8(offset + i, id.charCodeAt(i))
  }
  writeId(0, 'RIFF')
  view.setUint32(4, 36 + dataLength, true)
  writeId(8, 'WAVE')
  writeId(12, 'fmt ')
  view.setUint32(16, 16, true)
  view.setUint16(20, float ? FORMAT_FLOAT : FORMAT_PCM, true)
  view.setUint16(22, list.length, true)
  view.setUint32(24, sampleRate, true)
  view.setUint32(28, sampleRate * blockAlign, true)
  view.setUint16(32, blockAlign, true)
  view.setUint16(34, bytesPerSample * 8, true)
  writeId(36, 'data')
  view.setUint32(40, dataLength, true)
  let p = 44
  for (let f = 0; f < frames; f++) {
    for (const ch of list) {
      const s = ch[f]!
      if (float) {
        view.setFloat32(p, s, true)
      } else {
        const c = s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s
        view.setInt16(p, c < 0 ? Math.round(c * 32768) : Math.round(c * 32767), true)
      }
      p += bytesPerSample
    }
  }
  return out
}
