import { abortError, WsError } from '@ws/core'

interface Job {
  start: () => Promise<void>
  signal: AbortSignal | undefined
  reject: (error: Error) => void
  running: boolean
}

/**
 * Runs jobs one at a time, in order. An abort rejects a queued job at once and leaves a
 * running one alone: the job itself watches the same signal (whisper.cpp's abort callback)
 * and settles once it has stopped, so the next job never overlaps it.
 */
export class SerialQueue {
  #queue: Job[] = []
  #running: Promise<void> | undefined

  /** Jobs waiting, not counting the one running. */
  get waiting(): number {
    return this.#queue.length
  }

  enqueue<T>(run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (job.running) return
        const i = this.#queue.indexOf(job)
        if (i >= 0) this.#queue.splice(i, 1)
        reject(abortError(signal, 'transcription'))
      }
      const job: Job = {
        signal,
        reject,
        running: false,
        start: () => {
          job.running = true
          return run()
            .then(resolve, reject)
            .finally(() => signal?.removeEventListener('abort', onAbort))
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(job)
      this.#running ??= this.#drain()
    })
  }

  /** Rejects every waiting job with `closed`; resolves once the running one has settled. */
  async close(): Promise<void> {
    for (const job of this.#queue.splice(0)) job.reject(new WsError('closed', 'The backend was closed'))
    await this.#running
  }

  async #drain(): Promise<void> {
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        if (job.signal?.aborted) continue
        await job.start()
      }
    } finally {
      this.#running = undefined
    }
  }
}
