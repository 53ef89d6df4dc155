import { isWsError, WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import { LoadEstimate } from './load-estimate.js'

/** What an inference request is for: a final is owed to the client, a partial is a courtesy. */
export type InferenceKind = 'partial' | 'final'

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
   * Ends the turn. `audioSeconds`, for a final of streamed audio, counts its time in the load
   * estimate (work nobody streamed, such as a REST file, passes nothing). Idempotent.
   */
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
  /** The clock, in milliseconds (default `performance.now`; tests pass their own). */
  now?: () => number
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
  now: () => performance.now(),
} as const satisfies InferenceSchedulerOptions

interface Waiter {
  session: SessionSlot
  kind: InferenceKind
  enqueuedAt: number
  resolve: (ticket: InferenceTicket) => void
  reject: (error: Error) => void
  cleanup: () => void
  /** A final that waited while another final ran or was started ahead of it. */
  behindFinal: boolean
}

interface SessionSlot {
  id: number
  lastServed: number
  partial: Waiter | undefined
  bulk: boolean
  /** Its finals running now (a speculation may run while its utterance's final waits). */
  runningFinals: number
  /** When the session's first audio came (the clock's ms), and how much came since. */
  firstAudioAt: number | undefined
  audioSeconds: number
}

export interface InferenceSchedulerStats {
  running: number
  queuedFinals: number
  queuedPartials: number
  /** Requests started since creation, by kind. */
  started: { partial: number; final: number }
  /** Partial requests replaced by a newer one of the same session before they ran. */
  superseded: number
  /** Finals started {@link InferenceTicket.busy}: they waited for other finals, or ran beside one. */
  busyFinals: number
  /** Backend seconds of finals per second of audio sent, over the window (undefined while unmeasured). */
  finalRtf: number | undefined
}

/**
 * One per backend: orders every session's requests for it. Finals go before partials; among
 * requests of one kind the session served longest ago goes first (round robin), so no
 * session can starve another; a session has at most one partial waiting, and a newer one
 * replaces it. Sessions sending faster than real time (by more than `aheadSlackS`) and bulk
 * gates come after every real-time session's requests, so a flood of audio waits for the
 * live streams instead of delaying them (by at most the one request of it running). Admission control uses the measured cost of a second of audio (a
 * {@link LoadEstimate}: backend seconds of finals per second of audio the sessions sent, over
 * `loadWindowMs`): one more real-time stream is admitted while the finals of all of them would
 * take at most `maxLoad` of the backend's time. The first session is always admitted, and a
 * window with too little audio refuses nobody.
 *
 * Pure logic, no timers: it is driven by `acquire` and `release`.
 */
export class InferenceScheduler {
  readonly options: Required<InferenceSchedulerOptions>
  #finals: Waiter[] = []
  #partials: Waiter[] = []
  #running = 0
  #runningFinals = 0
  #sessions = 0
  #tick = 0
  #started = { partial: 0, final: 0 }
  #superseded = 0
  #busyFinals = 0
  readonly #load: LoadEstimate

  constructor(options: InferenceSchedulerOptions = {}) {
    const o = withDefaults(DEFAULT_INFERENCE_SCHEDULER_OPTIONS, options)
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64)
      throw new WsError('invalid_config', `concurrency must be 1 to 64, got ${o.concurrency}`)
    if (!(o.maxLoad > 0 && o.maxLoad <= 8))
      throw new WsError('invalid_config', `maxLoad must be in (0, 8], got ${o.maxLoad}`)
    if (!(o.aheadSlackS >= 0))
      throw new WsError('invalid_config', `aheadSlackS must be ≥ 0, got ${o.aheadSlackS}`)
    if (!(o.loadWindowMs >= 1000 && o.loadWindowMs <= 3_600_000))
      throw new WsError('invalid_config', `loadWindowMs must be from 1000 to 3600000, got ${o.loadWindowMs}`)
    this.options = o
    this.#load = new LoadEstimate({ windowMs: o.loadWindowMs, now: o.now })
  }

  /** A gate for one session (or, `bulk`, for work nobody waits for in real time). */
  gate(options: InferenceGateOptions = {}): InferenceGate {
    const session: SessionSlot = {
      id: ++this.#sessions,
      lastServed: -1,
      partial: undefined,
      bulk: options.bulk ?? false,
      runningFinals: 0,
      firstAudioAt: undefined,
      audioSeconds: 0,
    }
    return {
      acquire: (kind, signal) => this.#acquire(session, kind, signal),
      idle: () => this.idle,
      observeAudio: (seconds) => {
        session.firstAudioAt ??= this.options.now()
        session.audioSeconds += seconds
        this.observeAudio(seconds)
      },
    }
  }

  /** A free slot and nothing waiting. */
  get idle(): boolean {
    return (
      this.#running < this.options.concurrency && this.#finals.length === 0 && this.#partials.length === 0
    )
  }

  /**
   * Backend seconds of finals per second of audio the sessions sent, over the window;
   * undefined until enough audio was measured, and again once nobody streamed for a window.
   */
  get finalRtf(): number | undefined {
    return this.#load.perAudioSecond
  }

  /** Sessions sent `seconds` of audio (the load estimate's denominator). */
  observeAudio(seconds: number): void {
    this.#load.observeAudio(seconds)
  }

  /**
   * Feeds the load estimate with a final's backend time and its audio, as if a session had
   * sent only that audio (a warm-up transcription may seed it; tests use it).
   */
  observeFinal(processingSeconds: number, audioSeconds: number): void {
    if (!(audioSeconds > 0) || !(processingSeconds >= 0)) return
    this.#load.observeWork(processingSeconds)
    this.#load.observeAudio(audioSeconds)
  }

  /**
   * Whether one more real-time session fits next to `activeSessions`: always for the first,
   * true while unmeasured, else `(activeSessions + 1) × finalRtf ≤ maxLoad × concurrency`.
   */
  canAdmit(activeSessions: number): boolean {
    return this.#fits(activeSessions, this.finalRtf)
  }

  /**
   * After a refusal by {@link canAdmit}: when asking again may succeed, in milliseconds —
   * when, with nothing new measured, enough of the window's cost has aged out for one more
   * session (a session that ends frees room sooner); at least a second.
   */
  retryAfterMs(activeSessions: number): number {
    const ms = this.#load.msUntil((rtf) => this.#fits(activeSessions, rtf))
    return ms === 0 ? 0 : Math.max(1000, ms)
  }

  #fits(activeSessions: number, rtf: number | undefined): boolean {
    if (activeSessions === 0 || rtf === undefined) return true
    return (activeSessions + 1) * rtf <= this.options.maxLoad * this.options.concurrency
  }

  get stats(): InferenceSchedulerStats {
    return {
      running: this.#running,
      queuedFinals: this.#finals.length,
      queuedPartials: this.#partials.length,
      started: { ...this.#started },
      superseded: this.#superseded,
      busyFinals: this.#busyFinals,
      finalRtf: this.finalRtf,
    }
  }

  #acquire(session: SessionSlot, kind: InferenceKind, signal?: AbortSignal): Promise<InferenceTicket> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    return new Promise<InferenceTicket>((resolve, reject) => {
      const waiter: Waiter = {
        session,
        kind,
        enqueuedAt: this.options.now(),
        resolve,
        reject,
        cleanup: () => {},
        behindFinal: kind === 'final' && this.#othersRunning(session),
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

  /** Whether a session's requests wait for the real-time sessions' (bulk, or sending ahead). */
  #behind(session: SessionSlot): boolean {
    if (session.bulk) return true
    if (session.firstAudioAt === undefined) return false
    const elapsed = (this.options.now() - session.firstAudioAt) / 1000
    return session.audioSeconds - elapsed > this.options.aheadSlackS
  }

  /** Of the waiters of real-time sessions (or the others), the session served longest ago's. */
  #next(queue: Waiter[], behind: boolean): Waiter | undefined {
    let best: Waiter | undefined
    for (const w of queue) {
      if (this.#behind(w.session) !== behind) continue
      if (!best || w.session.lastServed < best.session.lastServed) best = w
    }
    return best
  }

  /** Whether finals of other sessions (or bulk work) are running. */
  #othersRunning(session: SessionSlot): boolean {
    return this.#runningFinals > session.runningFinals
  }

  #dispatch(): void {
    while (this.#running < this.options.concurrency) {
      const waiter =
        this.#next(this.#finals, false) ??
        this.#next(this.#partials, false) ??
        this.#next(this.#finals, true) ??
        this.#next(this.#partials, true)
      if (!waiter) return
      this.#remove(waiter)
      const final = waiter.kind === 'final'
      const { session } = waiter
      const busy =
        !session.bulk &&
        (final
          ? waiter.behindFinal || this.#othersRunning(session)
          : this.#running > 0 || this.#finals.length > 0)
      if (final) for (const w of this.#finals) w.behindFinal ||= w.session !== session
      this.#running++
      if (final) {
        this.#runningFinals++
        session.runningFinals++
      }
      if (busy && final) this.#busyFinals++
      this.#started[waiter.kind]++
      session.lastServed = ++this.#tick
      const startedAt = this.options.now()
      let released = false
      waiter.resolve({
        waitedMs: startedAt - waiter.enqueuedAt,
        busy,
        release: (audioSeconds?: number) => {
          if (released) return
          released = true
          this.#running--
          if (final) {
            this.#runningFinals--
            session.runningFinals--
          }
          // A final of streamed audio (its audio was counted as it came) costs the stream.
          if (final && audioSeconds !== undefined) {
            this.#load.observeWork((this.options.now() - startedAt) / 1000)
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
