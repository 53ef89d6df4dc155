import { abortError, WsError, withDefaults } from '@ws/core'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatStreamOptions {
  /** Longest answer, in tokens. */
  maxTokens: number
  /** Aborting stops the answer at once; the stream then ends with `aborted`. */
  signal?: AbortSignal
}

/**
 * A chat model that streams its answer. `stream()` yields text as the model writes it and
 * throws {@link WsError}: `llm_unavailable` (cannot be reached or loaded, retryable),
 * `llm_failed` (it answered with an error), `aborted`.
 */
export interface ChatModel {
  readonly name: string
  stream(messages: readonly ChatMessage[], options: ChatStreamOptions): AsyncIterable<string>
  close(): Promise<void>
}

export interface OpenAiChatModelOptions {
  /** The API's base URL, up to `/v1` (e.g. `https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`). */
  baseUrl: string
  model: string
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string
  /** Time allowed for the first byte of the answer (default 30 000). */
  timeoutMs?: number
  temperature?: number
  fetch?: typeof fetch
}

export const DEFAULT_OPENAI_CHAT_MODEL_OPTIONS = { timeoutMs: 30_000, temperature: 0.3 } as const

/**
 * Any OpenAI-compatible `POST /chat/completions` endpoint with `stream: true` (OpenAI,
 * llama.cpp's server, vLLM, Ollama, LM Studio…), read as server-sent events.
 */
export class OpenAiChatModel implements ChatModel {
  readonly name: string
  readonly #o: OpenAiChatModelOptions & Required<Pick<OpenAiChatModelOptions, 'timeoutMs' | 'temperature'>>

  constructor(options: OpenAiChatModelOptions) {
    this.#o = withDefaults(DEFAULT_OPENAI_CHAT_MODEL_OPTIONS, options)
    let url: URL
    try {
      url = new URL(this.#o.baseUrl)
    } catch {
      throw new WsError('invalid_config', `baseUrl is not a URL: ${JSON.stringify(options.baseUrl)}`)
    }
    if (!/^https?:$/.test(url.protocol)) throw new WsError('invalid_config', 'baseUrl must be http(s)')
    if (!options.model) throw new WsError('invalid_config', 'model is required')
    if (!(this.#o.timeoutMs > 0)) throw new WsError('invalid_config', 'timeoutMs must be positive')
    this.name = `${url.host}/${options.model}`
  }

  async *stream(messages: readonly ChatMessage[], options: ChatStreamOptions): AsyncIterable<string> {
    const o = this.#o
    const waiting = new AbortController()
    const timer = setTimeout(() => waiting.abort(new Error(`no answer in ${o.timeoutMs} ms`)), o.timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, waiting.signal]) : waiting.signal
    let response: Response
    try {
      response = await (o.fetch ?? fetch)(`${o.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: o.model,
          messages,
          stream: true,
          max_tokens: options.maxTokens,
          temperature: o.temperature,
        }),
        signal,
      })
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal, 'answer')
      throw new WsError(
        'llm_unavailable',
        `Chat model at ${o.baseUrl} unreachable: ${(err as Error).message}`,
        {
          cause: err,
          retryable: true,
        },
      )
    } finally {
      clearTimeout(timer)
    }
    if (!response.ok || !response.body) {
      const body = (await response.text().catch(() => '')).slice(0, 300)
      const code = response.status === 429 || response.status >= 500 ? 'llm_unavailable' : 'llm_failed'
      throw new WsError(code, `Chat model answered ${response.status}: ${body}`, {
        retryable: code === 'llm_unavailable',
      })
    }
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(bytes, { stream: true })
        let newline = buffered.indexOf('\n')
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim()
          buffered = buffered.slice(newline + 1)
          newline = buffered.indexOf('\n')
          if (!line.startsWith('data:')) continue
          const data = line.slice(5).trim()
          if (data === '[DONE]') return
          const text = deltaOf(data)
          if (text) yield text
        }
      }
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal, 'answer')
      if (err instanceof WsError) throw err
      throw new WsError('llm_unavailable', `Chat model stream broke: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
  }

  async close(): Promise<void> {}
}

/** The text of one streamed chunk (`choices[0].delta.content`); an `error` object throws `llm_failed`. */
function deltaOf(data: string): string {
  let chunk: { choices?: { delta?: { content?: unknown } }[]; error?: { message?: string } }
  try {
    chunk = JSON.parse(data)
  } catch {
    throw new WsError('llm_failed', `Chat model sent a chunk that is not JSON: ${data.slice(0, 100)}`)
  }
  if (chunk.error) throw new WsError('llm_failed', `Chat model error: ${chunk.error.message ?? 'unknown'}`)
  const content = chunk.choices?.[0]?.delta?.content
  return typeof content === 'string' ? content : ''
}
