/// <reference lib="dom" />
import { WsError, withDefaults } from '@ws/core'
import { CAPTURE_PROCESSOR, CAPTURE_WORKLET_SOURCE } from './capture-worklet.js'
import type { TranscriptionSession } from './session.js'

export interface MicrophoneOptions {
  /** Rate of the frames (default 16 000, the server's). */
  sampleRate?: number
  /** Length of each frame (default 20). */
  frameMs?: number
  /** `getUserMedia` audio constraints (default: mono, echo cancellation, noise suppression). */
  audio?: object
  /** Aborting stops the capture. */
  signal?: AbortSignal
}

export const DEFAULT_MICROPHONE_OPTIONS = {
  sampleRate: 16_000,
  frameMs: 20,
  audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
} as const

/** A running capture: `stop()` releases the microphone and the audio context (idempotent). */
export interface MicrophoneCapture {
  readonly sampleRate: number
  stop(): Promise<void>
}

function validate(o: MicrophoneOptions): void {
  const { sampleRate = 16_000, frameMs = 20 } = o
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48_000)
    throw new WsError('invalid_config', `sampleRate must be an integer from 8000 to 48000, got ${sampleRate}`)
  if (!(frameMs >= 10 && frameMs <= 1000))
    throw new WsError('invalid_config', `frameMs must be from 10 to 1000, got ${frameMs}`)
}

/**
 * Captures the microphone in the browser: an AudioWorklet resamples it to `sampleRate` and
 * hands `onFrame` PCM16 frames of `frameMs`. Call from a user gesture (browsers start audio
 * only then). A refused or missing microphone throws `invalid_audio`.
 */
export async function captureMicrophone(
  onFrame: (frame: Int16Array) => void,
  options: MicrophoneOptions = {},
): Promise<MicrophoneCapture> {
  validate(options)
  const o = withDefaults(DEFAULT_MICROPHONE_OPTIONS, options)
  let stream: MediaStream
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: o.audio as MediaTrackConstraints })
  } catch (err) {
    throw new WsError('invalid_audio', `No microphone: ${(err as Error).message}`, { cause: err })
  }
  const context = new AudioContext()
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      for (const track of stream.getTracks()) track.stop()
      await context.close().catch(() => {})
    })()
    return stopped
  }
  try {
    const url = URL.createObjectURL(new Blob([CAPTURE_WORKLET_SOURCE], { type: 'text/javascript' }))
    try {
      await context.audioWorklet.addModule(url)
    } finally {
      URL.revokeObjectURL(url)
    }
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
      processorOptions: {
        targetRate: o.sampleRate,
        frameSamples: Math.round((o.sampleRate * o.frameMs) / 1000),
      },
    })
    node.port.onmessage = (e: MessageEvent<ArrayBuffer>) => {
      if (!stopped) onFrame(new Int16Array(e.data))
    }
    context.createMediaStreamSource(stream).connect(node)
    if (context.state === 'suspended') await context.resume()
  } catch (err) {
    await stop()
    throw new WsError('invalid_audio', `Could not start audio capture: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (o.signal?.aborted) await stop()
  else o.signal?.addEventListener('abort', () => void stop(), { once: true })
  return { sampleRate: o.sampleRate, stop }
}

/**
 * Streams the microphone into a session once it is ready, at the session's sample rate.
 * Stop the returned capture before `session.end()` so that no frame follows the end.
 */
export async function streamMicrophone(
  session: TranscriptionSession,
  options: Omit<MicrophoneOptions, 'sampleRate'> = {},
): Promise<MicrophoneCapture> {
  await session.ready
  return captureMicrophone(
    (frame) => {
      try {
        session.sendAudio(frame)
      } catch (err) {
        // Frames that arrive after end() or close() are not the stream's: dropped.
        if (!(err instanceof WsError && err.code === 'closed')) throw err
      }
    },
    { ...options, sampleRate: session.sampleRate },
  )
}
