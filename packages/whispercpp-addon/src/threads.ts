import { definedOnly } from './defined.js'
import { WhisperAddonError } from './errors.js'

/**
 * Picks how many threads a call gets when the CPU may be shared. whisper.cpp's threads meet
 * at a barrier after every graph step, so a call runs at the pace of its slowest thread: when
 * another process takes a core, a call with one thread per core waits at each barrier for the
 * thread that lost its core (measured on 2 cores beside one busy loop: 2 threads 2.8 s,
 * 1 thread 2.7 s, alone 1.4 s). The sign is CPU time well under wall time × threads.
 *
 * After a starved call the next one gets a thread fewer; after `probeAfterCalls` calls at
 * full use, one more is tried again, up to what the call asks for.
 */
export interface ThreadGovernorOptions {
  /** CPU time / (wall time × threads) below which a call counts as starved (default 0.75). */
  minEfficiency?: number
  /** Calls judged fine before one more thread is tried (default 8). */
  probeAfterCalls?: number
  /** Calls shorter than this are not judged: too short to tell (default 50). */
  minWallMs?: number
}

export const DEFAULT_THREAD_GOVERNOR_OPTIONS = {
  minEfficiency: 0.75,
  probeAfterCalls: 8,
  minWallMs: 50,
} as const satisfies ThreadGovernorOptions

function bad(message: string): never {
  throw new WhisperAddonError('invalid_argument', `ThreadGovernor: ${message}`)
}

export class ThreadGovernor {
  readonly options: Required<ThreadGovernorOptions>
  #cap = Number.POSITIVE_INFINITY
  #fine = 0

  constructor(options: ThreadGovernorOptions = {}) {
    this.options = { ...DEFAULT_THREAD_GOVERNOR_OPTIONS, ...definedOnly(options) }
    const o = this.options
    if (!(o.minEfficiency > 0 && o.minEfficiency < 1))
      bad(`minEfficiency must be between 0 and 1, got ${o.minEfficiency}`)
    if (!(Number.isInteger(o.probeAfterCalls) && o.probeAfterCalls >= 1))
      bad(`probeAfterCalls must be a positive integer, got ${o.probeAfterCalls}`)
    if (!(o.minWallMs >= 0)) bad(`minWallMs must be >= 0, got ${o.minWallMs}`)
  }

  /** Threads for a call that asks for `requested`. */
  threads(requested: number): number {
    return Math.max(1, Math.min(requested, this.#cap))
  }

  /** Records how a call that ran alone on this model used its threads. */
  record(threads: number, wallMs: number, cpuMs: number): void {
    const o = this.options
    if (wallMs < o.minWallMs) return
    if (threads > 1 && cpuMs < o.minEfficiency * wallMs * threads) {
      this.#cap = threads - 1
      this.#fine = 0
      return
    }
    if (threads < this.#cap) {
      this.#cap = Number.POSITIVE_INFINITY // the cap no longer limits anything
      this.#fine = 0
      return
    }
    if (++this.#fine >= o.probeAfterCalls) {
      this.#cap += 1
      this.#fine = 0
    }
  }
}
