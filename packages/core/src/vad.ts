import { WsError } from './errors.js'
import type { VadSegmenterOptions } from './vad/segmenter.js'

/**
 * A voice activity detector deciding speech or not for one frame at a time.
 * Implementations: `@ws/vad-webrtc`, `@ws/vad-silero`. Turning decisions into utterances
 * (minimum speech, hangover, padding) is the {@link VadSegmenter}'s job, not the backend's.
 */
export interface VadBackend {
  readonly name?: string
  /** The rate frames must be at, in Hz. */
  readonly sampleRate: number
  /** The exact number of samples in one frame. */
  readonly frameSamples: number
  /**
   * Speech or not for one frame of exactly `frameSamples` samples (Float32 in [-1, 1] or
   * PCM16). A frame of another length or with non-finite samples throws `invalid_frame`.
   */
  isSpeech(frame: Int16Array | Float32Array): boolean | Promise<boolean>
  /**
   * Segmenter settings that suit this detector's own latency (e.g. a shorter hangover for a
   * VAD that already holds speech decisions a little past the end). The session and the
   * conformance suite use them unless told otherwise.
   */
  readonly segmenterDefaults?: VadSegmenterOptions
  /** Forgets all state, as if new. */
  reset(): void
  close?(): void | Promise<void>
}

/** Checks a frame against a VAD's frame size; throws {@link WsError} `invalid_frame`. */
export function validateVadFrame(
  frame: unknown,
  frameSamples: number,
): asserts frame is Int16Array | Float32Array {
  if (!(frame instanceof Float32Array) && !(frame instanceof Int16Array)) {
    throw new WsError('invalid_frame', 'A VAD frame must be a Float32Array or an Int16Array')
  }
  if (frame.length !== frameSamples) {
    throw new WsError('invalid_frame', `A VAD frame must hold ${frameSamples} samples, got ${frame.length}`)
  }
  if (frame instanceof Float32Array) {
    for (let i = 0; i < frame.length; i++) {
      if (!Number.isFinite(frame[i])) throw new WsError('invalid_frame', `Frame sample ${i} is not finite`)
    }
  }
}
