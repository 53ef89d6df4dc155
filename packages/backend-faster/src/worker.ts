import { abortError, ERROR_CODES, type ErrorCode, type Logger, WsError } from '@ws/core'
import { execa } from 'execa'
import { encodeFrame, FrameDecoder } from './frames.js'
import { WORKER_SCRIPT } from './paths.js'

export interface WorkerOptions {
  python: string
  modelDir: string
  device: string
  computeType: string
  cpuThreads: number
  beamSize: number
  maxBatch: number
  logger: Logger
  env?: NodeJS.ProcessEnv
}

export interface WorkerReady {
  pid: number
  multilingual: boolean
  loadTimeMs: number
  fasterWhisperVersion: string
}

interface Pending {
  resolve: (header: Record<string, unknown>) => void
  reject: (error: Error) => void
}

function codeOf(value: unknown): ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(value) ? (value as ErrorCode) : 'backend_failed'
}

/** One faster-whisper worker process: requests in, responses matched by id. */
export class WorkerProcess {
  readonly ready: Promise<WorkerReady>
  readonly #child: ReturnType<typeof execa>
  readonly #log: Logger
  readonly #pending = new Map<number, Pending>()
  readonly #exited: Promise<void>
  #nextId = 1
  #alive = true
  #fatal: WsError | undefined
  #stderrTail: string[] = []

  constructor(options: WorkerOptions) {
    this.#log = options.logger
    this.#child = execa(
      options.python,
      [
        '-u',
        WORKER_SCRIPT,
        '--model',
        options.modelDir,
        '--device',
        options.device,
        '--compute-type',
        options.computeType,
        '--cpu-threads',
        String(options.cpuThreads),
        '--beam-size',
        String(options.beamSize),
        '--max-batch',
        String(options.maxBatch),
      ],
      {
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        reject: false,
        cleanup: true,
        env: { ...(options.env ?? process.env), PYTHONUNBUFFERED: '1', HF_HUB_OFFLINE: '1' },
        extendEnv: false,
      },
    )
    const decoder = new FrameDecoder()
    let resolveReady!: (ready: WorkerReady) => void
    let rejectReady!: (error: Error) => void
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve
      rejectReady = reject
    })
    this.ready.catch(() => {}) // handled by whoever awaits it

    this.#child.stdout!.on('data', (chunk: Buffer) => {
      let frames: ReturnType<FrameDecoder['push']>
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        this.#log.error({ err }, 'faster-whisper worker sent a corrupt frame; stopping it')
        this.kill()
        return
      }
      for (const { header } of frames) {
        switch (header.type) {
          case 'ready':
            resolveReady({
              pid: Number(header.pid),
              multilingual: Boolean(header.multilingual),
              loadTimeMs: Number(header.load_time_ms),
              fasterWhisperVersion: String(header.faster_whisper),
            })
            break
          case 'fatal':
            this.#fatal = new WsError(codeOf(header.code), String(header.message))
            break
          case 'result':
          case 'error': {
            const id = Number(header.id)
            const pending = this.#pending.get(id)
            if (!pending) break // a request that was aborted meanwhile
            this.#pending.delete(id)
            if (header.type === 'result') pending.resolve(header)
            else {
              const code = codeOf(header.code)
              pending.reject(
                new WsError(code, String(header.message), { retryable: code === 'backend_failed' }),
              )
            }
            break
          }
          default:
            this.#log.warn({ header }, 'unknown frame from the faster-whisper worker')
        }
      }
    })
    let partial = ''
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.trim()) continue
        this.#stderrTail = [...this.#stderrTail.slice(-19), line]
        this.#log.warn({ worker: 'faster-whisper' }, line)
      }
    })
    this.#child.stdin!.on('error', () => {}) // EPIPE when the worker died: handled on exit

    this.#exited = this.#child.then((result) => {
      this.#alive = false
      const how = result.signal ? `signal ${result.signal}` : `code ${result.exitCode}`
      const tail = this.#stderrTail.slice(-3).join(' | ')
      const died = new WsError(
        'backend_failed',
        `The faster-whisper worker exited (${how})${tail ? `: ${tail}` : ''}`,
        {
          retryable: true,
        },
      )
      rejectReady(this.#fatal ?? died)
      for (const pending of this.#pending.values()) pending.reject(died)
      this.#pending.clear()
      this.#log.info({ how }, 'faster-whisper worker exited')
    })
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  get alive(): boolean {
    return this.#alive
  }

  get inFlight(): number {
    return this.#pending.size
  }

  /** Sends a request and resolves with the worker's `result` header. */
  request(
    header: Record<string, unknown>,
    payload: Uint8Array,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    if (!this.#alive)
      return Promise.reject(
        new WsError('backend_failed', 'The faster-whisper worker is not running', { retryable: true }),
      )
    if (signal?.aborted) return Promise.reject(abortError(signal, 'transcription'))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.#pending.delete(id)) return
        this.#write({ type: 'cancel', id })
        reject(abortError(signal, 'transcription'))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(value)
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      })
      this.#write({ ...header, id }, payload)
    })
  }

  /** Asks the worker to finish and waits for it; kills it after `timeoutMs`. Idempotent. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.#alive) {
      this.#write({ type: 'shutdown' })
      this.#child.stdin?.end()
      const timer = setTimeout(() => this.kill(), timeoutMs)
      try {
        await this.#exited
      } finally {
        clearTimeout(timer)
      }
    }
    await this.#exited
  }

  kill(): void {
    if (this.#alive) this.#child.kill('SIGKILL')
  }

  #write(header: object, payload?: Uint8Array): void {
    const stdin = this.#child.stdin
    if (!stdin || stdin.destroyed || stdin.writableEnded) return
    stdin.write(encodeFrame(header, payload))
  }
}
