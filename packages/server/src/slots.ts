import { type InferenceScheduler, WsError } from '@ws/core'

/** Why a session could not have a slot: what a refusal sends. */
export interface SlotRefusal {
  reason: 'capacity' | 'load'
  error: WsError
  /** When asking again may succeed. */
  retryAfterMs: number
}

/** A connection at most this long after the last one closed, at most. */
const CONNECTIONS_RETRY_MS = 5000

/** Why one more connection (WebSocket or Wyoming) is refused at `open` of `max` (`maxConnections`). */
export function connectionsRefusal(
  open: number,
  max: number,
): { reason: 'connections'; error: WsError; retryAfterMs: number } | undefined {
  if (open < max) return undefined
  return {
    reason: 'connections',
    error: new WsError('server_busy', `The server has all the connections it takes (${max})`, {
      retryable: true,
    }),
    retryAfterMs: CONNECTIONS_RETRY_MS,
  }
}

/** A slot at most this long after the last one was taken or given back, at most. */
const CAPACITY_RETRY_MS = 5000

/**
 * The sessions that hold inference: a connection takes a slot with its first audio and gives
 * it back when it ends or goes quiet (`noAudioTimeoutS`), so sockets that send no audio —
 * idle, or only keepalives — never keep anyone else from transcribing. At most `max` (the
 * server's `maxClients`), and one more only while the scheduler's load estimate says a
 * further real-time stream fits.
 */
export class SessionSlots {
  readonly max: number
  readonly #scheduler: InferenceScheduler
  #held = 0

  constructor(max: number, scheduler: InferenceScheduler) {
    this.max = max
    this.#scheduler = scheduler
  }

  /** Slots held now. */
  get held(): number {
    return this.#held
  }

  /** Why one more session would be refused now, or undefined if it fits. */
  refusal(): SlotRefusal | undefined {
    const held = this.#held
    if (held >= this.max) {
      return {
        reason: 'capacity',
        error: new WsError(
          'server_busy',
          `The server is transcribing all the sessions it can (${this.max}); retry shortly`,
          { retryable: true },
        ),
        retryAfterMs: CAPACITY_RETRY_MS,
      }
    }
    if (this.#scheduler.canAdmit(held)) return undefined
    const retryAfterMs = this.#scheduler.retryAfterMs(held)
    const cost = this.#scheduler.finalRtf?.toFixed(2)
    return {
      reason: 'load',
      error: new WsError(
        'server_busy',
        `The backend cannot keep up with one more real-time session (${held} transcribing, ${cost} s of inference per audio second each); retry in ${Math.ceil(retryAfterMs / 1000)} s or when a session ends`,
        { retryable: true },
      ),
      retryAfterMs,
    }
  }

  /** Takes a slot: undefined when taken, the refusal when none fits. */
  take(): SlotRefusal | undefined {
    const refusal = this.refusal()
    if (!refusal) this.#held++
    return refusal
  }

  /** Gives a slot back. */
  give(): void {
    if (this.#held > 0) this.#held--
  }
}
