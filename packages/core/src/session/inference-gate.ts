import { isWsError } from '../errors.js'

/**
 * What an inference request is for: a final is owed to the client, a partial is a courtesy, a
 * revision is background work (it improves text already sent).
 */
export type InferenceKind = 'partial' | 'final' | 'revision'

/** Every kind, in the order the scheduler serves them. */
export const INFERENCE_KINDS = ['final', 'partial', 'revision'] as const satisfies readonly InferenceKind[]

/** A turn at the backend; release it when the transcription is over. */
export interface InferenceTicket {
  /** Seconds the request waited for its turn. */
  readonly waitedMs: number
  /**
   * A real-time session's final at a contended engine: it waited while another session's final
   * (or a bulk request's) ran, or it runs beside one (concurrency above 1). Such a final takes
   * the backend's quick path (`TranscribeOptions.busy`), so finals queued behind a full-window
   * one drain at the fitted window's speed. A partial is busy when it runs beside other work or
   * finals wait (a strategy whose partials commit text, `agreement`, then takes the quick path).
   * False (or absent) otherwise.
   */
  readonly busy?: boolean
  /**
   * A partial's or a revision's turn: aborted when a real-time final waits for the slot it
   * holds. A holder whose backend stops a running call (`stopsRunningCalls`) passes it to the
   * call, gives the turn back, and asks again later (a revision) or not at all (a partial).
   */
  readonly preempted?: AbortSignal
  /**
   * Ends the turn. `audioSeconds`, for a final of streamed audio, counts its time in the load
   * estimate (work nobody streamed, such as a REST file, passes nothing). Idempotent.
   */
  release(audioSeconds?: number): void
}

/** How a request is booked (it is served by its kind alone). */
export interface AcquireOptions {
  /** A final computed ahead of its utterance's end (a speculation): booked as `ahead`. */
  ahead?: boolean
}

/**
 * Where a {@link StreamingSession} waits for its turn before each transcription. It asks just
 * before it reads its audio, so a partial that waited is made from the newest audio: a
 * stale partial request is replaced by a fresh one rather than queued behind it.
 */
export interface InferenceGate {
  /** Resolves when the request may run; rejects with `aborted` if `signal` aborts first. */
  acquire(kind: InferenceKind, signal?: AbortSignal, options?: AcquireOptions): Promise<InferenceTicket>
  /** True when the backend has a free slot and nothing waits: optional work costs nobody. */
  idle?(): boolean
  /** The session received `seconds` of audio (what admission measures the cost of). */
  observeAudio?(seconds: number): void
}

/**
 * Waits for a turn at `gate`: `'none'` without a gate (go ahead), undefined when `signal`
 * aborted meanwhile (nothing to release).
 */
export async function acquireTurn(
  gate: InferenceGate | undefined,
  kind: InferenceKind,
  signal: AbortSignal,
  options?: AcquireOptions,
): Promise<InferenceTicket | 'none' | undefined> {
  if (!gate) return 'none'
  try {
    const ticket = await gate.acquire(kind, signal, options)
    if (signal.aborted) {
      ticket.release()
      return undefined
    }
    return ticket
  } catch (err) {
    if (signal.aborted || isWsError(err, 'aborted')) return undefined
    throw err
  }
}

/**
 * The signal a call made on `ticket` runs under: `signal`, and the ticket's preemption where
 * the backend stops running calls (elsewhere the call runs to its end and the turn with it).
 */
export function turnSignal(
  ticket: InferenceTicket | 'none',
  signal: AbortSignal,
  stopsRunningCalls: boolean | undefined,
): AbortSignal {
  const preempted = ticket === 'none' ? undefined : ticket.preempted
  return preempted && stopsRunningCalls ? AbortSignal.any([signal, preempted]) : signal
}
