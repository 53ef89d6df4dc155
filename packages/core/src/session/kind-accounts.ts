import { INFERENCE_KINDS, type InferenceKind } from './inference-gate.js'

/**
 * What the books are kept by: the kind of a real-time session's request, `ahead` (a final
 * computed before its utterance ended, a speculation), or `bulk` (a REST file's).
 */
export type InferenceAccount = InferenceKind | 'ahead' | 'bulk'
export const INFERENCE_ACCOUNTS = [
  ...INFERENCE_KINDS,
  'ahead',
  'bulk',
] as const satisfies readonly InferenceAccount[]

/** Where the engine's time went for one kind of request (or bulk work), since the scheduler was made. */
export interface InferenceKindStats {
  /** Requests that got a turn. */
  calls: number
  /** Turns taken back for a waiting final (partials and revisions). */
  preempted: number
  /** Seconds the requests waited for their turn, summed. */
  waitSeconds: number
  /** Seconds the requests held their turn (the engine's time), summed. */
  busySeconds: number
  /**
   * This process's CPU seconds while the requests ran, each interval shared equally among the
   * turns running in it. An engine in this process (whisper.cpp's threads) is counted whole; one
   * in another process (faster-whisper's worker) is not (only this process's side of it).
   */
  cpuSeconds: number
}

/** The process's CPU time in microseconds (user + system), where the runtime tells it. */
export function processCpuMicros(): number {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process
  const usage = p?.cpuUsage?.()
  return usage ? usage.user + usage.system : 0
}

/** A turn on the books, from {@link KindAccounts.start} to {@link KindAccounts.end}. */
export interface BookedTurn {
  readonly kind: InferenceAccount
  /** The scheduler's clock when it started. */
  readonly startedAt: number
}

/**
 * The scheduler's books by kind: calls, preemptions, wait and busy seconds, and CPU seconds
 * shared among the turns running at once (on each start and end, the CPU used since the last
 * one goes in equal parts to the turns that ran through it).
 */
export class KindAccounts {
  readonly #stats = Object.fromEntries(
    INFERENCE_ACCOUNTS.map((k) => [
      k,
      { calls: 0, preempted: 0, waitSeconds: 0, busySeconds: 0, cpuSeconds: 0 },
    ]),
  ) as Record<InferenceAccount, InferenceKindStats>
  readonly #running = new Set<BookedTurn>()
  readonly #now: () => number
  readonly #cpuMicros: () => number
  #cpuAt: number

  constructor(now: () => number, cpuMicros: () => number = processCpuMicros) {
    this.#now = now
    this.#cpuMicros = cpuMicros
    this.#cpuAt = cpuMicros()
  }

  /** A turn starts after waiting `waitedMs`; pass the handle to {@link end}. */
  start(kind: InferenceAccount, waitedMs: number): BookedTurn {
    this.#shareCpu()
    const s = this.#stats[kind]
    s.calls++
    s.waitSeconds += waitedMs / 1000
    const turn = { kind, startedAt: this.#now() }
    this.#running.add(turn)
    return turn
  }

  end(turn: BookedTurn): void {
    if (!this.#running.has(turn)) return
    this.#shareCpu()
    this.#running.delete(turn)
    this.#stats[turn.kind].busySeconds += (this.#now() - turn.startedAt) / 1000
  }

  preempted(kind: InferenceAccount): void {
    this.#stats[kind].preempted++
  }

  get stats(): Record<InferenceAccount, InferenceKindStats> {
    this.#shareCpu()
    return Object.fromEntries(INFERENCE_ACCOUNTS.map((k) => [k, { ...this.#stats[k] }])) as Record<
      InferenceAccount,
      InferenceKindStats
    >
  }

  #shareCpu(): void {
    const now = this.#cpuMicros()
    const used = (now - this.#cpuAt) / 1e6
    this.#cpuAt = now
    if (this.#running.size === 0 || !(used > 0)) return
    for (const turn of this.#running) this.#stats[turn.kind].cpuSeconds += used / this.#running.size
  }
}
