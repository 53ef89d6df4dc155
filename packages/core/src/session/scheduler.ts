import { isWsError, WsError } from '../errors.js'

/** What an inference request is for: a final is owed to the client, a partial is a courtesy. */
export type InferenceKind = 'partial' | 'final'

/** A turn at the backend; release it when the transcription is over. */
export interface InferenceTicket {
  /** Seconds the request waited for its turn. */
  readonly waitedMs: number
  /** Ends the turn. `audioSeconds` (of a final) feeds the real-time-factor estimate. Idempotent. */
  release(audioSeconds?: number): void
}

/**
 * Where a {@link StreamingSession} waits for its turn before each transcription. It asks just
 * before it reads its audio, so a partial that waited is made from the newest audio: a
 * stale partial request is replaced by a fresh one rather than queued behind it.
 */
export interface InferenceGate {
  /** Resolves when the request may run; rejects with `aborted` if `signal` aborts first. */
  acquire(kind: InferenceKind, signal?: AbortSignal): Promise<InferenceTicket>
  /** True when the backend has a free slot and nothing waits: optional work costs nobody. */
  idle?(): boolean
}

/**
 * Waits for a turn at `gate`: `'none'` without a gate (go ahead), undefined when `signal`
 * aborted meanwhile (nothing to release).
 */
export async function acquireTurn(
  gate: InferenceGate | undefined,
  kind: InferenceKind,
  signal: AbortSignal,
): Promise<InferenceTicket | 'none' | undefined> {
  if (!gate) return 'none'
  try {
    const ticket = await gate.acquire(kind, signal)
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

export interface InferenceSchedulerOptions {
  /** Requests run at once (1 for whisper.cpp, which runs one transcription at a time; the batch size for faster-whisper). */
  concurrency?: number
  /** Admission: the share of the backend's time the finals of all sessions may use (default 0.8; the rest is for partials). */
  maxLoad?: number
  /** Weight of the newest final in the real-time-factor average (default 0.2). */
  rtfSmoothing?: number
  /**
   * How long a real-time-factor estimate counts without a new final to refresh it (default
   * 30 000). An older one refuses nobody, and the next final measures afresh: a slow burst
   * (or a slow start) cannot lock the server out once its sessions are gone.
   */
  rtfMaxAgeMs?: number
  /** The clock, in milliseconds (default `performance.now`; tests pass their own). */
  now?: () => number
}

export const DEFAULT_INFERENCE_SCHEDULER_OPTIONS = {
  concurrency: 1,
  maxLoad: 0.8,
  rtfSmoothing: 0.2,
  rtfMaxAgeMs: 30_000,
  now: () => performance.now(),
} as const satisfies InferenceSchedulerOptions

interface Waiter {
  session: SessionSlot
  kind: InferenceKind
  enqueuedAt: number
  resolve: (ticket: InferenceTicket) => void
  reject: (error: Error) => void
  cleanup: () => void
}

interface SessionSlot {
  id: number
  lastServed: number
  partial: Waiter | undefined
}

export interface InferenceSchedulerStats {
  running: number
  queuedFinals: number
  queuedPartials: number
  /** Requests started since creation, by kind. */
  started: { partial: number; final: number }
  /** Partial requests replaced by a newer one of the same session before they ran. */
  superseded: number
  /** Smoothed processing seconds per audio second of finals (undefined before the first, or aged out). */
  finalRtf: number | undefined
}

/**
 * One per backend: orders every session's requests for it. Finals go before partials; among
 * requests of one kind the session served longest ago goes first (round robin), so no
 * session can starve another; a session has at most one partial waiting, and a newer one
 * replaces it. Admission control uses the measured real-time factor of finals: one more
 * real-time stream is admitted while the finals of all of them would take at most `maxLoad`
 * of the backend's time. The first session is always admitted, and an estimate no final has
 * refreshed for `rtfMaxAgeMs` refuses nobody.
 *
 * Pure logic, no timers: it is driven by `acquire` and `release`.
 */
export class InferenceScheduler {
  readonly options: Required<InferenceSchedulerOptions>
  #finals: Waiter[] = []
  #partials: Waiter[] = []
  #running = 0
  #sessions = 0
  #tick = 0
  #started = { partial: 0, final: 0 }
  #superseded = 0
  #rtf: number | undefined
  #rtfAt = 0

  constructor(options: InferenceSchedulerOptions = {}) {
    const o = { ...DEFAULT_INFERENCE_SCHEDULER_OPTIONS, ...options }
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64)
      throw new WsError('invalid_config', `concurrency must be 1 to 64, got ${o.concurrency}`)
    if (!(o.maxLoad > 0 && o.maxLoad <= 8))
      throw new WsError('invalid_config', `maxLoad must be in (0, 8], got ${o.maxLoad}`)
    if (!(o.rtfSmoothing > 0 && o.rtfSmoothing <= 1))
      throw new WsError('invalid_config', `rtfSmoothing must be in (0, 1], got ${o.rtfSmoothing}`)
    if (!(o.rtfMaxAgeMs > 0))
      throw new WsError('invalid_config', `rtfMaxAgeMs must be > 0, got ${o.rtfMaxAgeMs}`)
    this.options = o
  }

  /** A gate for one session. */
  gate(): InferenceGate {
    const session: SessionSlot = { id: ++this.#sessions, lastServed: -1, partial: undefined }
    return {
      acquire: (kind, signal) => this.#acquire(session, kind, signal),
      idle: () => this.idle,
    }
  }

  /** A free slot and nothing waiting. */
  get idle(): boolean {
    return (
      this.#running < this.options.concurrency && this.#finals.length === 0 && this.#partials.length === 0
    )
  }

  /**
   * Processing seconds per audio second of finals, smoothed; undefined until one was
   * measured, and again once `rtfMaxAgeMs` passed without a final.
   */
  get finalRtf(): number | undefined {
    return this.#age() <= this.options.rtfMaxAgeMs ? this.#rtf : undefined
  }

  /** Feeds the real-time-factor estimate (each final does; a warm-up transcription may seed it). */
  observeFinal(processingSeconds: number, audioSeconds: number): void {
    if (!(audioSeconds > 0) || !(processingSeconds >= 0)) return
    const rtf = processingSeconds / audioSeconds
    const a = this.options.rtfSmoothing
    const previous = this.finalRtf
    this.#rtf = previous === undefined ? rtf : a * rtf + (1 - a) * previous
    this.#rtfAt = this.options.now()
  }

  /**
   * Whether one more real-time session fits next to `activeSessions`: always for the first,
   * true while unmeasured, else `(activeSessions + 1) × finalRtf ≤ maxLoad × concurrency`.
   */
  canAdmit(activeSessions: number): boolean {
    if (activeSessions === 0) return true
    const rtf = this.finalRtf
    if (rtf === undefined) return true
    return (activeSessions + 1) * rtf <= this.options.maxLoad * this.options.concurrency
  }

  /**
   * After a refusal by {@link canAdmit}: when asking again may succeed, in milliseconds —
   * when the estimate ages out unless a final refreshes it (a session that ends frees room
   * sooner).
   */
  retryAfterMs(): number {
    if (this.finalRtf === undefined) return 0
    return Math.max(1000, Math.ceil(this.options.rtfMaxAgeMs - this.#age()))
  }

  get stats(): InferenceSchedulerStats {
    return {
      running: this.#running,
      queuedFinals: this.#finals.length,
      queuedPartials: this.#partials.length,
      started: { ...this.#started },
      superseded: this.#superseded,
      finalRtf: this.finalRtf,
    }
  }

  #age(): number {
    return this.options.now() - this.#rtfAt
  }

  #acquire(session: SessionSlot, kind: InferenceKind, signal?: AbortSignal): Promise<InferenceTicket> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    return new Promise<InferenceTicket>((resolve, reject) => {
      const waiter: Waiter = {
        session,
        kind,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => {},
      }
      if (signal) {
        const onAbort = () => {
          if (this.#remove(waiter)) reject(abortReason(signal))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort)
      }
      if (kind === 'partial') {
        const stale = session.partial
        if (stale && this.#remove(stale)) {
          this.#superseded++
          stale.reject(new WsError('aborted', 'A newer partial request replaced this one'))
        }
        session.partial = waiter
        this.#partials.push(waiter)
      } else {
        this.#finals.push(waiter)
      }
      this.#dispatch()
    })
  }

  #remove(waiter: Waiter): boolean {
    const queue = waiter.kind === 'final' ? this.#finals : this.#partials
    const index = queue.indexOf(waiter)
    if (index < 0) return false
    queue.splice(index, 1)
    if (waiter.session.partial === waiter) waiter.session.partial = undefined
    waiter.cleanup()
    return true
  }

  /** The waiter of the session served longest ago (first come among equals). */
  #next(queue: Waiter[]): Waiter | undefined {
    let best: Waiter | undefined
    for (const w of queue) if (!best || w.session.lastServed < best.session.lastServed) best = w
    return best
  }

  #dispatch(): void {
    while (this.#running < this.options.concurrency) {
      const waiter = this.#next(this.#finals) ?? this.#next(this.#partials)
      if (!waiter) return
      this.#remove(waiter)
      this.#running++
      this.#started[waiter.kind]++
      waiter.session.lastServed = ++this.#tick
      const startedAt = performance.now()
      let released = false
      waiter.resolve({
        waitedMs: startedAt - waiter.enqueuedAt,
        release: (audioSeconds?: number) => {
          if (released) return
          released = true
          this.#running--
          if (waiter.kind === 'final' && audioSeconds !== undefined) {
            this.observeFinal((performance.now() - startedAt) / 1000, audioSeconds)
          }
          this.#dispatch()
        },
      })
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof WsError) return reason
  return new WsError('aborted', 'The request was aborted before it ran', { cause: reason })
}
