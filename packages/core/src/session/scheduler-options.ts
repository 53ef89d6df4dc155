import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import { processCpuMicros } from './kind-accounts.js'

export interface InferenceSchedulerOptions {
  /** Requests run at once (1 for whisper.cpp, which runs one transcription at a time; the batch size for faster-whisper). */
  concurrency?: number
  /** Admission: the share of the backend's time the finals of all sessions may use (default 0.8; the rest is for partials). */
  maxLoad?: number
  /**
   * The window of the load estimate, in milliseconds (default 30 000): backend seconds of
   * finals per second of audio the sessions sent in it. An estimate older than that (nobody
   * streamed) refuses nobody, so a slow burst cannot lock the server out once its sessions
   * are gone.
   */
  loadWindowMs?: number
  /**
   * Seconds of audio a session may be ahead of the wall clock (since its first audio) and
   * still count as real time (default 3). A session further ahead (a file sent faster than
   * real time) and a bulk gate's requests go after the requests of real-time sessions.
   */
  aheadSlackS?: number
  /**
   * Take a partial's or a revision's turn back when a real-time final waits and every slot is
   * taken (default true): the holder's {@link InferenceTicket.preempted} aborts, and a backend
   * that stops running calls frees the slot at once instead of after the call.
   */
  preempt?: boolean
  /** The clock, in milliseconds (default `performance.now`; tests pass their own). */
  now?: () => number
  /** This process's CPU time, in microseconds (default `process.cpuUsage`; tests pass their own). */
  cpuMicros?: () => number
}

export interface InferenceGateOptions {
  /** Work nobody waits for in real time (a REST file): served after real-time sessions. */
  bulk?: boolean
}

export const DEFAULT_INFERENCE_SCHEDULER_OPTIONS = {
  concurrency: 1,
  maxLoad: 0.8,
  loadWindowMs: 30_000,
  aheadSlackS: 3,
  preempt: true,
  now: () => performance.now(),
  cpuMicros: processCpuMicros,
} as const satisfies InferenceSchedulerOptions

/** The options with their defaults, validated (`invalid_config`). */
export function schedulerOptions(options: InferenceSchedulerOptions): Required<InferenceSchedulerOptions> {
  const o = withDefaults(DEFAULT_INFERENCE_SCHEDULER_OPTIONS, options)
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64)
    throw new WsError('invalid_config', `concurrency must be 1 to 64, got ${o.concurrency}`)
  if (!(o.maxLoad > 0 && o.maxLoad <= 8))
    throw new WsError('invalid_config', `maxLoad must be in (0, 8], got ${o.maxLoad}`)
  if (!(o.aheadSlackS >= 0))
    throw new WsError('invalid_config', `aheadSlackS must be ≥ 0, got ${o.aheadSlackS}`)
  if (!(o.loadWindowMs >= 1000 && o.loadWindowMs <= 3_600_000))
    throw new WsError('invalid_config', `loadWindowMs must be from 1000 to 3600000, got ${o.loadWindowMs}`)
  return o
}
