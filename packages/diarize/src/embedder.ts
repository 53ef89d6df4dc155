import { Worker } from 'node:worker_threads'
import { type ErrorCode, throwIfAborted, WsError } from '@ws/core'
import { type ModelSourceOptions, resolveSpeakerModel } from '@ws/models'
import { EMBED_WORKER_PATH } from './paths.js'

export interface SpeakerEmbedderOptions extends ModelSourceOptions {
  /** A speaker model name of `@ws/models` or the path of its `.onnx` file (default `campplus`). */
  model?: string
  /** WebAssembly threads of the model in the worker (default 1). */
  threads?: number
  /**
   * The worker thread's nice value on Linux, 0–19 (default 10): speaker embeddings give way to
   * transcription when both want the CPU (measured: live finals with `diarize=true` came 40 ms
   * later at p50 on 2 cores at 0). 0 leaves the priority; ignored elsewhere.
   */
  niceness?: number
  signal?: AbortSignal
}

/** Defaults of {@link SpeakerEmbedderOptions}. */
export const SPEAKER_EMBEDDER_DEFAULTS = { model: 'campplus', threads: 1, niceness: 10 } as const

/**
 * Shortest window: 45 ms, three 10 ms frames (the model halves the frame rate, and the
 * standard deviation over time needs two steps).
 */
export const MIN_WINDOW_SAMPLES = 720
/** Longest window in one call: 60 s at 16 kHz. */
export const MAX_WINDOW_SAMPLES = 60 * 16_000

interface Reply {
  seq: number
  ok: boolean
  value?: unknown
  error?: { message: string; code?: string }
}

const WORKER_CODES = new Set<string>(['closed', 'model_load_failed'])

/**
 * Speaker embeddings of 16 kHz mono windows: Kaldi fbank features and the CAM++ model on
 * onnxruntime-web, in a worker thread of its own (the event loop only posts windows and
 * receives vectors). Embeddings are the model's raw output; compare them by cosine.
 */
export class SpeakerEmbedder {
  readonly modelPath: string
  readonly dim: number
  #worker: Worker
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: WsError) => void }>()
  #seq = 0
  #closed: Promise<void> | undefined
  /** Set when the worker died: every later call fails with it at once. */
  #dead: WsError | undefined

  private constructor(worker: Worker, modelPath: string, dim: number) {
    this.#worker = worker
    this.modelPath = modelPath
    this.dim = dim
  }

  /** False once closed, or once its worker died (every call fails then). */
  get alive(): boolean {
    return !this.#closed && !this.#dead
  }

  /** Resolves the model (provisioning it on first use) and starts the worker. */
  static async create(options: SpeakerEmbedderOptions = {}): Promise<SpeakerEmbedder> {
    const threads = options.threads ?? SPEAKER_EMBEDDER_DEFAULTS.threads
    if (!Number.isInteger(threads) || threads < 1 || threads > 16)
      throw new WsError('invalid_config', `threads must be an integer from 1 to 16, got ${threads}`)
    const niceness = options.niceness ?? SPEAKER_EMBEDDER_DEFAULTS.niceness
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19)
      throw new WsError('invalid_config', `niceness must be an integer from 0 to 19, got ${niceness}`)
    throwIfAborted(options.signal, 'speaker model load')
    const { model = SPEAKER_EMBEDDER_DEFAULTS.model, signal, threads: _t, niceness: _n, ...source } = options
    const resolved = await resolveSpeakerModel(model, { ...source, ...(signal ? { signal } : {}) })
    const worker = new Worker(EMBED_WORKER_PATH, { execArgv: [] })
    worker.unref() // held open only while a request waits (an idle embedder never keeps a program alive)
    const embedder = new SpeakerEmbedder(worker, resolved.path, resolved.dim)
    worker.on('message', (reply: Reply) => embedder.#settle(reply))
    const fail = (err: Error) => embedder.#failAll(err, true)
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)))
    try {
      const dim = (await embedder.#request({
        op: 'open',
        modelPath: resolved.path,
        threads,
        niceness,
      })) as number
      ;(embedder as { dim: number }).dim = dim
    } catch (err) {
      await embedder.close()
      throw err
    }
    return embedder
  }

  /**
   * One embedding per window (each of `dim` values). Windows are 16 kHz mono samples in
   * [-1, 1], from 45 ms to 60 s; windows of equal length run in batches.
   */
  async embed(
    windows: readonly Float32Array[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Float32Array[]> {
    throwIfAborted(options.signal, 'embedding')
    if (this.#closed) throw new WsError('closed', 'The speaker embedder is closed')
    windows.forEach((w, i) => {
      if (!(w instanceof Float32Array))
        throw new WsError('invalid_audio', `Window ${i} is not a Float32Array of 16 kHz samples`)
      if (w.length < MIN_WINDOW_SAMPLES || w.length > MAX_WINDOW_SAMPLES)
        throw new WsError(
          'invalid_audio',
          `Window ${i} has ${w.length} samples; a window is ${MIN_WINDOW_SAMPLES} to ${MAX_WINDOW_SAMPLES} samples (16 kHz)`,
        )
      for (const v of w)
        if (!Number.isFinite(v))
          throw new WsError('invalid_audio', `Window ${i} has a sample that is not finite`)
    })
    if (windows.length === 0) return []
    const flat = (await this.#request({
      op: 'embed',
      windows: windows.map((w) => w.slice()),
    })) as Float32Array
    throwIfAborted(options.signal, 'embedding')
    return windows.map((_, i) => flat.slice(i * this.dim, (i + 1) * this.dim))
  }

  /** Stops the worker; waiting calls fail with `closed`. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#failAll(new WsError('closed', 'The speaker embedder is closed'))
      await this.#worker.terminate()
    })()
    return this.#closed
  }

  #request(message: Record<string, unknown>): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead)
    const seq = ++this.#seq
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref()
      this.#pending.set(seq, { resolve, reject })
      const windows = message.windows as Float32Array[] | undefined
      this.#worker.postMessage(
        { ...message, seq },
        windows ? windows.map((w) => w.buffer as ArrayBuffer) : [],
      )
    })
  }

  #settle(reply: Reply): void {
    const p = this.#pending.get(reply.seq)
    if (!p) return
    this.#pending.delete(reply.seq)
    if (this.#pending.size === 0) this.#worker.unref()
    if (reply.ok) p.resolve(reply.value)
    else {
      const code = (
        WORKER_CODES.has(reply.error?.code ?? '') ? reply.error?.code : 'backend_failed'
      ) as ErrorCode
      p.reject(new WsError(code, reply.error?.message ?? 'Speaker embedding failed'))
    }
  }

  #failAll(err: Error, dead = false): void {
    const error =
      err instanceof WsError
        ? err
        : new WsError('backend_failed', `The speaker embedding worker stopped: ${err.message}`, {
            cause: err,
          })
    if (dead) this.#dead ??= error
    for (const p of this.#pending.values()) p.reject(error)
    this.#pending.clear()
  }
}

/** `v / ‖v‖` (a zero vector stays zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let n = 0
  for (const x of v) n += x * x
  n = Math.sqrt(n)
  return n === 0 ? v.slice() : v.map((x) => x / n)
}

/** Cosine similarity of two vectors of equal length. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number)
    na += (a[i] as number) ** 2
    nb += (b[i] as number) ** 2
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}
