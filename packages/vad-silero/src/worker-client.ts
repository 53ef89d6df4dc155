import { Worker } from 'node:worker_threads'
import { type ErrorCode, WsError } from '@ws/core'
import { SILERO_WORKER_PATH } from './paths.js'

export type WorkerRequest =
  | { op: 'open'; id: number; modelPath: string; sampleRate: number }
  | { op: 'run'; id: number; frame: Float32Array }
  | { op: 'reset'; id: number }
  | { op: 'close'; id: number }

interface Reply {
  seq: number
  ok: boolean
  value?: number
  error?: { message: string; code?: string }
}

interface Pending {
  resolve: (value: number | undefined) => void
  reject: (err: WsError) => void
}

const WORKER_CODES = new Set<string>(['closed', 'model_load_failed'])

/**
 * The one worker thread of the process that runs every Silero VAD, started on first use.
 * It holds the event loop open only while a request waits for its answer, so an idle VAD
 * never keeps a program from exiting. If the worker dies, every waiting request fails with
 * `backend_failed` and the next request starts a new worker.
 */
class SileroWorker {
  #worker: Worker | undefined
  #pending = new Map<number, Pending>()
  #seq = 0

  request(message: WorkerRequest): Promise<number | undefined> {
    const worker = this.#start()
    const seq = ++this.#seq
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref()
      this.#pending.set(seq, { resolve, reject })
      worker.postMessage({ ...message, seq })
    })
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    // No execArgv of the parent (--input-type, loaders, --eval …): the worker needs none of them.
    const worker = new Worker(SILERO_WORKER_PATH, { execArgv: [] })
    worker.unref()
    worker.on('message', (reply: Reply) => this.#settle(reply))
    const fail = (err: Error) => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      const error = new WsError('backend_failed', `The Silero VAD worker stopped: ${err.message}`, {
        cause: err,
      })
      for (const p of this.#pending.values()) p.reject(error)
      this.#pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)))
    this.#worker = worker
    return worker
  }

  #settle(reply: Reply): void {
    const p = this.#pending.get(reply.seq)
    if (!p) return
    this.#pending.delete(reply.seq)
    if (this.#pending.size === 0) this.#worker?.unref()
    if (reply.ok) p.resolve(reply.value)
    else {
      const code = (
        WORKER_CODES.has(reply.error?.code ?? '') ? reply.error?.code : 'backend_failed'
      ) as ErrorCode
      p.reject(new WsError(code, reply.error?.message ?? 'Silero VAD failed'))
    }
  }
}

let shared: SileroWorker | undefined
let nextId = 0

/** The process's Silero worker, and a new VAD id on it. */
export function sileroWorker(): { worker: SileroWorker; id: number } {
  shared ??= new SileroWorker()
  return { worker: shared, id: ++nextId }
}

export type { SileroWorker }
