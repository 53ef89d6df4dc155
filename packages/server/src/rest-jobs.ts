import { WsError } from '@ws/core'

/** One REST transcription under way. */
export interface RestJob {
  readonly signal: AbortSignal
  /** Seconds of audio in the file (once known) and transcribed so far. */
  totalSeconds: number | undefined
  doneSeconds: number
  /** Ends the job (idempotent). */
  done(): void
}

/**
 * The REST transcriptions under way: at most `max` at once (more get 429 with a `Retry-After`
 * from how fast the running ones go), each with an `AbortSignal` that the client leaving or
 * the server shutting down aborts.
 */
export class RestJobs {
  readonly max: number
  readonly #jobs = new Set<RestJob & { startedAt: number; abort: AbortController; finished: Promise<void> }>()

  constructor(max: number) {
    this.max = max
  }

  get running(): number {
    return this.#jobs.size
  }

  /** A new job, or the refusal (`server_busy`, retryable, with `retryAfterMs`: a 429) when `max` run. */
  start(): RestJob | { refusal: WsError; retryAfterMs: number } {
    if (this.#jobs.size >= this.max) {
      const retryAfterMs = this.#retryAfterMs()
      return {
        refusal: new WsError(
          'server_busy',
          `${this.max} transcriptions are under way; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
          { retryable: true },
        ),
        retryAfterMs,
      }
    }
    const abort = new AbortController()
    let finish!: () => void
    const finished = new Promise<void>((resolve) => {
      finish = resolve
    })
    const job = {
      signal: abort.signal,
      totalSeconds: undefined as number | undefined,
      doneSeconds: 0,
      startedAt: performance.now(),
      abort,
      finished,
      done: () => {
        this.#jobs.delete(job)
        finish()
      },
    }
    this.#jobs.add(job)
    return job
  }

  /** Waits up to `graceMs` for the jobs under way, then aborts the rest with `reason`. */
  async close(graceMs: number, reason: WsError): Promise<void> {
    if (this.#jobs.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const all = Promise.all([...this.#jobs].map((j) => j.finished))
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
    clearTimeout(timer)
    for (const j of this.#jobs) j.abort.abort(reason)
    await all
  }

  /**
   * When the soonest running job should end, from its pace so far (seconds of processing per
   * second of audio); a second at least, 30 when nothing is known yet.
   */
  #retryAfterMs(): number {
    let soonest = Infinity
    const now = performance.now()
    for (const j of this.#jobs) {
      if (j.totalSeconds === undefined || j.doneSeconds === 0) continue
      const pace = (now - j.startedAt) / j.doneSeconds
      soonest = Math.min(soonest, (j.totalSeconds - j.doneSeconds) * pace)
    }
    return Math.max(1000, Math.ceil(Number.isFinite(soonest) ? soonest : 30_000))
  }
}
