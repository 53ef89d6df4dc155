import { abortError } from './errors.js'

/** At most `limit` tasks at once; the others wait in order (an abort takes a waiting task out). */
export class Limiter {
  readonly #limit: number
  #running = 0
  readonly #waiting: (() => void)[] = []

  constructor(limit: number) {
    this.#limit = limit
  }

  get running(): number {
    return this.#running
  }

  /** Runs `task` when a slot is free; `what` names the task in the `aborted` error of a waiting one. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal, what = 'transcription'): Promise<T> {
    if (this.#running < this.#limit) this.#running++
    else {
      // Wait for a finishing task to hand over its slot.
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = () => {
          const i = this.#waiting.indexOf(go)
          if (i >= 0) this.#waiting.splice(i, 1)
          reject(abortError(signal, what))
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.#waiting.push(go)
      })
    }
    try {
      return await task()
    } finally {
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running--
    }
  }
}
