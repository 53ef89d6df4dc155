import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { WHISPER_SAMPLE_RATE, WsError } from '@ws/core'
import { decodeAudio } from '@ws/core/node'
import type { TranscriptionSession } from './session.js'

/** Audio of a file (or bytes) at 16 kHz mono: WAV is read here, other formats through ffmpeg. */
export async function readAudio(input: string | Uint8Array): Promise<Float32Array> {
  let bytes: Uint8Array
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input
  } catch (err) {
    throw new WsError('invalid_config', `Cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  return decodeAudio(bytes)
}

export interface StreamAudioOptions {
  /** Pace the audio as it would come from a microphone (default false: as fast as the server reads). */
  realtime?: boolean
  /** Frame length (default 20 ms). */
  frameMs?: number
  /** Called for each frame before it is sent. */
  onFrame?: (frame: Float32Array) => void
  /** Awaited after each frame is sent, before the next (e.g. client-side VAD sending `vad_end`). */
  afterFrame?: (frame: Float32Array) => void | Promise<void>
  signal?: AbortSignal
}

const HIGH_WATER_BYTES = 1 << 20

/** Sends 16 kHz audio to a session in frames; resolves when all is sent. */
export async function streamAudio(
  session: TranscriptionSession,
  samples: Float32Array,
  options: StreamAudioOptions = {},
): Promise<void> {
  if (session.sampleRate !== WHISPER_SAMPLE_RATE) {
    throw new WsError('invalid_config', 'streamAudio sends 16 kHz audio; connect with sample_rate 16000')
  }
  const frame = Math.round(((options.frameMs ?? 20) * WHISPER_SAMPLE_RATE) / 1000)
  const started = performance.now()
  for (let offset = 0; offset < samples.length; offset += frame) {
    if (options.signal?.aborted || session.closed) return
    const chunk = samples.subarray(offset, offset + frame)
    options.onFrame?.(chunk)
    session.sendAudio(chunk)
    await options.afterFrame?.(chunk)
    if (options.realtime) {
      const due = started + ((offset + chunk.length) / WHISPER_SAMPLE_RATE) * 1000
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
    } else {
      while (session.bufferedAmount > HIGH_WATER_BYTES && !session.closed) await sleep(5)
      if (offset % (frame * 50) === 0) await new Promise((r) => setImmediate(r))
    }
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

const RECORDERS = [
  {
    bin: 'sox',
    args: ['-q', '-d', '-t', 'raw', '-r', '16000', '-c', '1', '-e', 'signed-integer', '-b', '16', '-'],
  },
  { bin: 'arecord', args: ['-q', '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw'] },
  {
    bin: 'ffmpeg',
    args: [
      '-v',
      'error',
      '-f',
      'pulse',
      '-i',
      'default',
      '-f',
      's16le',
      '-ac',
      '1',
      '-ar',
      '16000',
      'pipe:1',
    ],
  },
] as const

/**
 * The default microphone as 16 kHz PCM16 chunks, through the first recorder found on the
 * PATH (sox, arecord, ffmpeg). Rejects with `invalid_config` when there is none.
 */
export async function* microphone(options: { signal?: AbortSignal } = {}): AsyncGenerator<Int16Array> {
  for (const recorder of RECORDERS) {
    const child = spawn(recorder.bin, [...recorder.args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const started = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true))
      child.once('error', () => resolve(false))
    })
    if (!started) continue
    const stop = () => child.kill('SIGTERM')
    options.signal?.addEventListener('abort', stop, { once: true })
    let carry: Buffer = Buffer.alloc(0)
    try {
      for await (const data of child.stdout as AsyncIterable<Buffer>) {
        const bytes: Buffer = carry.length > 0 ? Buffer.concat([carry, data]) : data
        const whole = bytes.length - (bytes.length % 2)
        carry = bytes.subarray(whole)
        const copy = new Uint8Array(bytes.subarray(0, whole))
        yield new Int16Array(copy.buffer, 0, whole / 2)
      }
    } finally {
      options.signal?.removeEventListener('abort', stop)
      stop()
    }
    return
  }
  throw new WsError(
    'invalid_config',
    'No audio recorder on the PATH: install sox, arecord (alsa-utils) or ffmpeg',
  )
}
