import { spawn } from 'node:child_process'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { concatFloat32 } from '../audio/pcm.js'
import { Resampler } from '../audio/resample.js'
import { mixToMono, readWavFrames, readWavHeader } from '../audio/wav.js'
import { abortError, WsError } from '../errors.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

export interface DecodeAudioOptions {
  /**
   * Longest audio accepted, in seconds: a WAV file is refused from its header before any
   * decoding, another format as soon as ffmpeg has produced that much (`audio_too_large`).
   */
  maxSeconds?: number
  /** Stops decoding (and ffmpeg) with `aborted`. */
  signal?: AbortSignal
  /** Told the audio's duration in seconds as soon as it is known (a WAV file's header). */
  onDuration?: (seconds: number) => void
}

/** Input decoded between two turns of the event loop, in seconds of audio. */
const CHUNK_SECONDS = 2

/**
 * Audio file bytes to 16 kHz mono, a piece at a time: each yielded chunk follows the one
 * before, and the event loop turns between them (a long file never blocks it; memory holds
 * the file's bytes and one chunk). WAV (any rate, any channels, PCM / float / G.711) is read
 * here; any other format goes through `ffmpeg` when it is on the PATH. Throws `invalid_audio`
 * when the bytes cannot be decoded or ffmpeg is missing for a non-WAV file, `invalid_wav` for
 * a malformed WAV file, `audio_too_large` past `maxSeconds`.
 */
export async function* decodeAudioStream(
  bytes: Uint8Array,
  options: DecodeAudioOptions = {},
): AsyncGenerator<Float32Array> {
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF') {
    yield* decodeWav(bytes, options)
  } else {
    yield* ffmpegDecode(bytes, options)
  }
}

/** Audio file bytes to 16 kHz mono, whole (see {@link decodeAudioStream}). */
export async function decodeAudio(
  bytes: Uint8Array,
  options: DecodeAudioOptions = {},
): Promise<Float32Array> {
  const chunks: Float32Array[] = []
  for await (const chunk of decodeAudioStream(bytes, options)) chunks.push(chunk)
  return chunks.length === 1 ? chunks[0]! : concatFloat32(chunks)
}

function tooLong(seconds: number, max: number): WsError {
  return new WsError(
    'audio_too_large',
    `The audio is ${seconds >= max ? `over ${max}` : seconds.toFixed(0)} s long; at most ${max} s is transcribed at once`,
  )
}

async function* decodeWav(bytes: Uint8Array, options: DecodeAudioOptions): AsyncGenerator<Float32Array> {
  const header = readWavHeader(bytes)
  options.onDuration?.(header.durationSeconds)
  const max = options.maxSeconds
  if (max !== undefined && header.durationSeconds > max) {
    throw new WsError(
      'audio_too_large',
      `The audio is ${header.durationSeconds.toFixed(0)} s long; at most ${max} s is transcribed at once`,
    )
  }
  const resampler =
    header.sampleRate === WHISPER_SAMPLE_RATE
      ? undefined
      : new Resampler({ fromRate: header.sampleRate, toRate: WHISPER_SAMPLE_RATE })
  const step = Math.max(1, Math.round(CHUNK_SECONDS * header.sampleRate))
  for (let first = 0; first < header.frames; first += step) {
    if (options.signal?.aborted) throw abortError(options.signal, 'decoding')
    const mono = mixToMono(readWavFrames(bytes, header, first, step))
    const out = resampler ? resampler.process(mono) : mono
    if (out.length > 0) yield out
    await nextTurn()
  }
  const tail = resampler?.flush()
  if (tail && tail.length > 0) yield tail
}

async function* ffmpegDecode(bytes: Uint8Array, options: DecodeAudioOptions): AsyncGenerator<Float32Array> {
  const child = spawn(
    'ffmpeg',
    ['-v', 'error', '-i', 'pipe:0', '-f', 'f32le', '-ac', '1', '-ar', '16000', 'pipe:1'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let err = ''
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  child.stdin.on('error', () => {}) // ffmpeg may stop reading early on bad input
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new WsError(
              'invalid_audio',
              'This is not a WAV file, and ffmpeg (which reads other formats) is not on the PATH',
            )
          : new WsError('internal_error', `ffmpeg failed to start: ${e.message}`),
      ),
    )
  })
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  const kill = () => child.kill('SIGKILL')
  options.signal?.addEventListener('abort', kill, { once: true })
  try {
    await started
    child.stdin.end(bytes)
    const max = options.maxSeconds === undefined ? Infinity : options.maxSeconds * WHISPER_SAMPLE_RATE
    let carry = Buffer.alloc(0)
    let samples = 0
    for await (const data of child.stdout as AsyncIterable<Buffer>) {
      if (options.signal?.aborted) throw abortError(options.signal, 'decoding')
      const all = carry.length > 0 ? Buffer.concat([carry, data]) : data
      const whole = all.length - (all.length % 4)
      carry = Buffer.from(all.subarray(whole))
      const chunk = new Float32Array(whole >> 2)
      for (let i = 0; i < chunk.length; i++) chunk[i] = all.readFloatLE(i * 4)
      samples += chunk.length
      if (samples > max) throw tooLong(samples / WHISPER_SAMPLE_RATE, options.maxSeconds!)
      if (chunk.length > 0) yield chunk
    }
    const code = await exited
    if (options.signal?.aborted) throw abortError(options.signal, 'decoding')
    if (code !== 0) {
      const line = err.trim().split('\n').pop() ?? ''
      throw new WsError('invalid_audio', `The audio could not be decoded${line ? `: ${line}` : ''}`)
    }
  } finally {
    options.signal?.removeEventListener('abort', kill)
    if (child.exitCode === null && child.signalCode === null) kill()
  }
}
