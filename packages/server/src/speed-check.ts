import type { WhisperBackend } from '@ws/core'
import { WHISPER_SAMPLE_RATE } from '@ws/core'

/** Seconds of audio the start-up speed check decodes. */
export const SPEED_PROBE_SECONDS = 5

/**
 * How much more a final of speech costs than the probe (silence, which decodes to a token or
 * two), per second of audio: the largest ratio measured with real English clips of 4 to 21 s,
 * whisper.cpp tiny.en and base on 2 cores, as live finals (1.1 to 1.75).
 */
export const SPEECH_COST_FACTOR = 1.75

/** What the start-up speed check measured. */
export interface SpeedCheck {
  /** Wall time of one decode of the probe, warmed up, in ms. */
  probeMs: number
  /** Backend seconds per second of the probe. */
  realTimeFactor: number
  /**
   * The estimated share of the backend one session's finals take while its speaker talks
   * without a pause: `realTimeFactor × SPEECH_COST_FACTOR`. Partials come on top when the
   * backend is free; they are skipped, not queued, when it is not.
   */
  finalsLoad: number
  /** Whether one talking session's finals fit under `maxLoad`. */
  keepsUp: boolean
}

/**
 * Decodes {@link SPEED_PROBE_SECONDS} of silence twice as a live final (the first call warms the
 * engine up, so the first session does not pay for it) and times the second: whether the loaded
 * model can keep up with one session on this machine.
 */
export async function checkSpeed(
  backend: WhisperBackend,
  options: { maxLoad: number; signal?: AbortSignal; now?: () => number },
): Promise<SpeedCheck> {
  const now = options.now ?? (() => performance.now())
  const probe = new Float32Array(SPEED_PROBE_SECONDS * WHISPER_SAMPLE_RATE)
  const decode = () =>
    backend.transcribe(probe, WHISPER_SAMPLE_RATE, {
      live: true,
      language: 'en',
      ...(options.signal ? { signal: options.signal } : {}),
    })
  await decode()
  const started = now()
  await decode()
  const probeMs = now() - started
  const realTimeFactor = probeMs / 1000 / SPEED_PROBE_SECONDS
  const finalsLoad = realTimeFactor * SPEECH_COST_FACTOR
  return { probeMs, realTimeFactor, finalsLoad, keepsUp: finalsLoad <= options.maxLoad }
}

/** The start-up warning for a model too slow for this machine, or undefined when it keeps up. */
export function speedWarning(check: SpeedCheck, model: string, maxLoad: number): string | undefined {
  if (check.keepsUp) return undefined
  return (
    `${model} decodes 1 s of audio in ${check.realTimeFactor.toFixed(2)} s here: one talking session's ` +
    `finals would take about ${Math.round(check.finalsLoad * 100)} % of the engine (more than maxLoad ` +
    `${maxLoad}), so finals will fall behind the speech. Choose a smaller or quantized model ` +
    `(e.g. tiny.en or base-q8_0), more threads, or a faster machine.`
  )
}
