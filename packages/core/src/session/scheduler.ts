import { WsError } from '../errors.js'
import type { InferenceGate, InferenceKind, InferenceTicket } from './inference-gate.js'
import {
  type BookedTurn,
  type InferenceAccount,
  type InferenceKindStats,
  KindAccounts,
} from './kind-accounts.js'
import { LoadEstimate } from './load-estimate.js'
import {
  type InferenceGateOptions,
  type InferenceSchedulerOptions,
  schedulerOptions,
} from './scheduler-options.js'

export {
  type AcquireOptions,
  acquireTurn,
  INFERENCE_KINDS,
  type InferenceGate,
  type InferenceKind,
  type InferenceTicket,
  turnSignal,
} from './inference-gate.js'
export {
  INFERENCE_ACCOUNTS,
  type InferenceAccount,
  type InferenceKindStats,
  processCpuMicros,
} from './kind-accounts.js'
export {
  DEFAULT_INFERENCE_SCHEDULER_OPTIONS,
  type InferenceGateOptions,
  type InferenceSchedulerOptions,
} from './scheduler-options.js'

interface Waiter {
  session: SessionSlot
  kind: InferenceKind
  enqueuedAt: number
  resolve: (ticket: InferenceTicket) => void
  reject: (error: Error) => void
  cleanup: () => void
  /** A final that waited while another final ran or was started ahead of it. */
  behindFinal: boolean
  /** A final computed ahead (booked apart). */
  ahead: boolean
}

interface SessionSlot {
  id: number
  lastServed: number
  /** Its partial or revision waiting (at most one of each). */
  partial: Waiter | undefined
  revision: Waiter | undefined
  bulk: boolean
  /** Its finals running now (a speculation may run while its utterance's final waits). */
  runningFinals: number
  /** When the session's first audio came (the clock's ms), and how much came since. */
  firstAudioAt: number | undefined
  audioSeconds: number
}

/** A partial's or a revision's turn running, which a waiting final may take back. */
interface Preemptible {
  turn: BookedTurn
  controller: AbortController
}

export interface InferenceSchedulerStats {
  running: number
  queuedFinals: number
  queuedPartials: number
  queuedRevisions: number
  /** Requests started since creation, by kind. */
  started: Record<InferenceKind, number>
  /**
   * Where the engine's time went, by kind of real-time request, for finals computed ahead
   * (`ahead`) and for bulk work (REST files):
   * calls, preemptions, wait, busy and CPU seconds.
   */
  byKind: Record<InferenceAccount, InferenceKindStats>
  /** Partial requests replaced by a newer one of the same session before they ran. */
  superseded: number
  /** Finals started {@link InferenceTicket.busy}: they waited for other finals, or ran beside one. */
  busyFinals: number
  /** Backend seconds of finals per second of audio sent, over the window (undefined while unmeasured). */
  finalRtf: number | undefined
}

/**
 * One per backend: orders every session's requests for it. Finals go before partials, and
 * partials before revisions (background work); among requests of one kind the session served
 * longest ago goes first (round robin), so no session can starve another; a session has at
 * most one partial and one revision waiting, and a newer one replaces it. A real-time final
 * that finds every slot taken takes back a partial's or a revision's turn
 * ({@link InferenceTicket.preempted}), so it never waits for a revision of another session.
 * Sessions sending faster than real time (by more than `aheadSlackS`) and bulk gates come
 * after every real-time session's requests, so a flood of audio waits for the live streams
 * instead of delaying them (by at most the one request of it running). `stats.byKind` tells
 * where the engine's time went. Admission control uses the measured cost of a second of audio (a
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
  #revisions: Waiter[] = []
  #running = 0
  #runningFinals = 0
  /** Partials' and revisions' turns running, oldest first. */
  readonly #preemptible = new Set<Preemptible>()
  #sessions = 0
  #tick = 0
  #superseded = 0
  #busyFinals = 0
  readonly #load: LoadEstimate
  readonly #accounts: KindAccounts

  constructor(options: InferenceSchedulerOptions = {}) {
    const o = schedulerOptions(options)
    this.options = o
    this.#load = new LoadEstimate({ windowMs: o.loadWindowMs, now: o.now })
    this.#accounts = new KindAccounts(o.now, o.cpuMicros)
  }

  /** A gate for one session (or, `bulk`, for work nobody waits for in real time). */
  gate(options: InferenceGateOptions = {}): InferenceGate {
    const session: SessionSlot = {
      id: ++this.#sessions,
      lastServed: -1,
      partial: undefined,
      revision: undefined,
      bulk: options.bulk ?? false,
      runningFinals: 0,
      firstAudioAt: undefined,
      audioSeconds: 0,
    }
    return {
      acquire: (kind, signal, options) => this.#acquire(session, kind, signal, options?.ahead === true),
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
      this.#running < this.options.concurrency &&
      this.#finals.length === 0 &&
      this.#partials.length === 0 &&
      this.#revisions.length === 0
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
    const byKind = this.#accounts.stats
    return {
      running: this.#running,
      queuedFinals: this.#finals.length,
      queuedPartials: this.#partials.length,
      queuedRevisions: this.#revisions.length,
      started: {
        final: byKind.final.calls + byKind.ahead.calls + byKind.bulk.calls,
        partial: byKind.partial.calls,
        revision: byKind.revision.calls,
      },
      byKind,
      superseded: this.#superseded,
      busyFinals: this.#busyFinals,
      finalRtf: this.finalRtf,
    }
  }

  #acquire(
    session: SessionSlot,
    kind: InferenceKind,
    signal: AbortSignal | undefined,
    ahead: boolean,
  ): Promise<InferenceTicket> {
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
        ahead: ahead && kind === 'final',
      }
      if (signal) {
        const onAbort = () => {
          if (this.#remove(waiter)) reject(abortReason(signal))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort)
      }
      if (kind === 'final') this.#finals.push(waiter)
      else {
        // A session's newer partial (or revision) request replaces the one still waiting.
        const stale = session[kind]
        if (stale && this.#remove(stale)) {
          this.#superseded++
          stale.reject(new WsError('aborted', `A newer ${kind} request replaced this one`))
        }
        session[kind] = waiter
        this.#queue(kind).push(waiter)
      }
      this.#dispatch()
    })
  }

  #queue(kind: InferenceKind): Waiter[] {
    return kind === 'final' ? this.#finals : kind === 'partial' ? this.#partials : this.#revisions
  }

  #remove(waiter: Waiter): boolean {
    const queue = this.#queue(waiter.kind)
    const index = queue.indexOf(waiter)
    if (index < 0) return false
    queue.splice(index, 1)
    if (waiter.session.partial === waiter) waiter.session.partial = undefined
    if (waiter.session.revision === waiter) waiter.session.revision = undefined
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

  /**
   * Of the waiters of real-time sessions (or the others), the session served longest ago's;
   * of finals, those computed ahead (`ahead`) or the others.
   */
  #next(queue: Waiter[], behind: boolean, ahead = false): Waiter | undefined {
    let best: Waiter | undefined
    for (const w of queue) {
      if (this.#behind(w.session) !== behind || w.ahead !== ahead) continue
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
      // A final someone waits for, then one computed ahead (speech may resume and void it).
      const waiter =
        this.#next(this.#finals, false) ??
        this.#next(this.#finals, false, true) ??
        this.#next(this.#partials, false) ??
        this.#next(this.#revisions, false) ??
        this.#next(this.#finals, true) ??
        this.#next(this.#finals, true, true) ??
        this.#next(this.#partials, true) ??
        this.#next(this.#revisions, true)
      if (!waiter) break
      this.#start(waiter)
    }
    this.#preempt()
  }

  #start(waiter: Waiter): void {
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
    session.lastServed = ++this.#tick
    const startedAt = this.options.now()
    const waitedMs = startedAt - waiter.enqueuedAt
    const account: InferenceAccount = session.bulk ? 'bulk' : waiter.ahead ? 'ahead' : waiter.kind
    const turn = this.#accounts.start(account, waitedMs)
    const preemptible = final ? undefined : { turn, controller: new AbortController() }
    if (preemptible) this.#preemptible.add(preemptible)
    let released = false
    waiter.resolve({
      waitedMs,
      busy,
      ...(preemptible ? { preempted: preemptible.controller.signal } : {}),
      release: (audioSeconds?: number) => {
        if (released) return
        released = true
        this.#running--
        this.#accounts.end(turn)
        if (preemptible) this.#preemptible.delete(preemptible)
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

  /**
   * Every slot taken and real-time finals waiting: as many partials' and revisions' turns as
   * finals wait (not counting those already asked back) are asked back, revisions first, the
   * most recently started first (the least work lost).
   */
  #preempt(): void {
    if (!this.options.preempt || this.#preemptible.size === 0 || this.#finals.length === 0) return
    if (this.#running < this.options.concurrency) return
    const finals = this.#finals.filter((w) => !this.#behind(w.session)).length
    const running = [...this.#preemptible]
    const asked = running.filter((p) => p.controller.signal.aborted)
    const revisionFirst = (p: Preemptible) => Number(p.turn.kind === 'revision')
    const victims = running
      .filter((p) => !p.controller.signal.aborted)
      .sort((a, b) => revisionFirst(b) - revisionFirst(a) || b.turn.startedAt - a.turn.startedAt)
      .slice(0, Math.max(0, finals - asked.length))
    for (const { turn, controller } of victims) {
      this.#accounts.preempted(turn.kind)
      controller.abort(new WsError('aborted', `A final took this ${turn.kind}'s turn`))
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof WsError) return reason
  return new WsError('aborted', 'The request was aborted before it ran', { cause: reason })
}
