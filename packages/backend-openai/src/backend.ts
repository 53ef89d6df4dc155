import {
  abortError,
  BackendBase,
  isWsError,
  Limiter,
  type Logger,
  type Segment,
  type TranscribeOptions,
  type TranscriptResult,
  WHISPER_SAMPLE_RATE,
  type Word,
  WsError,
  withDefaults,
  writeWav,
} from '@ws/core'
import { Agent, fetch } from 'undici'
import {
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  retryAfterMs,
  retryableStatus,
  retryDelayMs,
  sleep,
} from './retry.js'
import { fromWhisperServer, openAiForm, type VerboseJson, whisperServerForm } from './whisper-server.js'

export interface OpenAiBackendOptions {
  /**
   * The API's base URL: up to `/v1` for `api: 'openai'` (e.g. `https://api.openai.com/v1`,
   * `http://127.0.0.1:8765/v1`), the server's root for `api: 'whisper-server'`.
   */
  baseUrl: string
  /**
   * `openai` (default): `POST {baseUrl}/audio/transcriptions` (and `/translations`) as OpenAI
   * defines them. `whisper-server`: whisper.cpp's server, `POST {baseUrl}/inference` with its
   * own form (its tokens become words); it serves the one model it was started with.
   */
  api?: 'openai' | 'whisper-server'
  /**
   * The model a `whisper-server` was started with (e.g. `tiny.en`): `loadModel` of another
   * name is `model_not_found`. Default: any name is taken (the server does not say).
   */
  servedModel?: string
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string
  /**
   * Whether the server returns word times (`timestamp_granularities[]=word`): OpenAI,
   * `@ws/server` and speaches do (default true). False: a call asking for words is refused
   * with `invalid_config`, so a strategy that needs them fails at once, not silently.
   */
  wordTimestamps?: boolean
  /** Whether the model knows languages other than English (default: from the name, `.en` is English-only). */
  multilingual?: boolean
  /** Requests in flight at most; more wait in order (default 4). */
  concurrency?: number
  /** One attempt's time limit (default 60 000). */
  timeoutMs?: number
  /** Retries on 408, 429, 5xx and lost connections (default 3 retries, 250 ms doubling with jitter, at most 10 s; `Retry-After` honoured). */
  retry?: Partial<RetryPolicy>
  logger?: Logger
}

export const DEFAULT_OPENAI_BACKEND_OPTIONS = {
  api: 'openai',
  wordTimestamps: true,
  concurrency: 4,
  timeoutMs: 60_000,
} as const

type Resolved = OpenAiBackendOptions &
  Required<Pick<OpenAiBackendOptions, 'api' | 'wordTimestamps' | 'concurrency' | 'timeoutMs'>> & {
    retryPolicy: RetryPolicy
  }

/**
 * A {@link WhisperBackend} on any OpenAI-compatible `POST /audio/transcriptions`: OpenAI,
 * vLLM, speaches, whisper.cpp's `whisper-server`, or another `@ws/server`. Audio goes as a
 * 16 kHz WAV; `verbose_json` comes back (with word times where asked and offered). Keep-alive
 * connections are pooled (undici), calls beyond `concurrency` wait, each attempt has a time
 * limit, and 408/429/5xx or a lost connection are retried with backoff and jitter, honouring
 * `Retry-After`. An abort stops the request (`aborted`).
 */
export class OpenAiBackend extends BackendBase<Resolved> {
  readonly #agent: Agent
  readonly #limiter: Limiter
  #model: string | undefined
  #multilingual: boolean | undefined

  constructor(options: OpenAiBackendOptions) {
    const o = withDefaults(DEFAULT_OPENAI_BACKEND_OPTIONS, options)
    let url: URL
    try {
      url = new URL(o.baseUrl)
    } catch {
      throw new WsError('invalid_config', `baseUrl is not a URL: ${JSON.stringify(options.baseUrl)}`)
    }
    if (!/^https?:$/.test(url.protocol)) throw new WsError('invalid_config', 'baseUrl must be http(s)')
    if (o.api !== 'openai' && o.api !== 'whisper-server')
      throw new WsError(
        'invalid_config',
        `api must be 'openai' or 'whisper-server', not ${JSON.stringify(o.api)}`,
      )
    if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1))
      throw new WsError('invalid_config', 'concurrency must be a positive integer')
    if (!(o.timeoutMs > 0)) throw new WsError('invalid_config', 'timeoutMs must be positive')
    const retryPolicy = withDefaults(DEFAULT_RETRY_POLICY, options.retry)
    if (!(Number.isInteger(retryPolicy.retries) && retryPolicy.retries >= 0))
      throw new WsError('invalid_config', 'retry.retries must be >= 0')
    super('openai', { ...o, baseUrl: o.baseUrl.replace(/\/+$/, ''), retryPolicy }, options.logger)
    this.#agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 30_000 })
    this.#limiter = new Limiter(o.concurrency)
  }

  get multilingual(): boolean | undefined {
    return this.#multilingual
  }

  protected get modelLoaded(): boolean {
    return this.#model !== undefined
  }

  /**
   * Takes the model's name as the server knows it. Where the server lists its models
   * (`GET /models`), a name it does not list is `model_not_found`; an unreachable server is
   * `model_load_failed`.
   */
  protected async loadModelImpl(model: string): Promise<void> {
    const o = this.options
    if (o.api === 'whisper-server' && o.servedModel !== undefined && model !== o.servedModel)
      throw new WsError('model_not_found', `${o.baseUrl} serves "${o.servedModel}", not "${model}"`)
    let res: Awaited<ReturnType<typeof fetch>>
    try {
      // whisper-server answers /health 503 while its model loads; OpenAI's API lists models.
      res = await fetch(`${o.baseUrl}/${o.api === 'whisper-server' ? 'health' : 'models'}`, {
        headers: this.#headers(),
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(o.timeoutMs),
      })
    } catch (err) {
      throw new WsError('model_load_failed', `${o.baseUrl} is not reachable: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
    if (res.status === 401 || res.status === 403)
      throw new WsError('unauthorized', `${o.baseUrl} refused the API key (${res.status})`)
    if (o.api === 'whisper-server' && !res.ok) {
      await res.body?.cancel()
      throw new WsError(
        'model_load_failed',
        `${o.baseUrl}/health answered ${res.status} (model still loading?)`,
        {
          retryable: true,
        },
      )
    }
    if (res.ok && o.api === 'openai') {
      const body = (await res.json().catch(() => ({}))) as { data?: { id?: string }[] }
      const ids = (body.data ?? []).map((m) => m.id)
      if (ids.length > 0 && !ids.includes(model))
        throw new WsError(
          'model_not_found',
          `${o.baseUrl} has no model "${model}" (it lists ${ids.join(', ')})`,
        )
    } else await res.body?.cancel()
    this.#model = model
    this.#multilingual = o.multilingual ?? !model.endsWith('.en')
  }

  protected async transcribeImpl(audio: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    const o = this.options
    const words = options.wordTimestamps ?? false
    if (words && !o.wordTimestamps)
      throw new WsError('invalid_config', `${o.baseUrl} does not report word times (wordTimestamps: false)`)
    const wav = writeWav(audio, WHISPER_SAMPLE_RATE)
    const started = performance.now()
    const body = await this.#limiter.run(() => this.#withRetries(wav, options, words), options.signal)
    const duration = audio.length / WHISPER_SAMPLE_RATE
    const clamp = (t: number) => Math.max(0, Math.min(duration, Number(t) || 0))
    const wordList: Word[] = (body.words ?? []).map((w) => ({
      start: clamp(w.start),
      end: clamp(w.end),
      text: String(w.word).trim(),
      ...(typeof w.probability === 'number' ? { probability: w.probability } : {}),
    }))
    const segments: Segment[] = (body.segments ?? [{ start: 0, end: duration, text: body.text ?? '' }])
      .map((s) => ({ start: clamp(s.start), end: clamp(s.end), text: String(s.text).trim() }))
      .filter((s) => s.text)
      .map((s, i, all) => {
        if (!words) return s
        // Each word to the segment it starts in (the last takes the rest).
        const last = i === all.length - 1
        return {
          ...s,
          words: wordList.filter(
            (w) => w.start >= s.start - 0.01 && (last || w.start < all[i + 1]!.start - 0.01),
          ),
        }
      })
    return {
      text: (body.text ?? segments.map((s) => s.text).join(' ')).trim(),
      segments,
      language: options.language ?? languageCode(body.language) ?? (this.#multilingual ? 'und' : 'en'),
      processingTimeMs: Math.round(performance.now() - started),
    }
  }

  protected async closeImpl(): Promise<void> {
    await this.#agent.close()
  }

  #headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}
  }

  async #withRetries(wav: Uint8Array, options: TranscribeOptions, words: boolean): Promise<VerboseJson> {
    const policy = this.options.retryPolicy
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(wav, options, words)
      } catch (err) {
        const e = err as WsError & { retryAfterMs?: number }
        if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
        if (!(isWsError(e) && e.retryable) || attempt >= policy.retries) throw err
        const wait = retryDelayMs(policy, attempt, e.retryAfterMs)
        this.log.warn(
          { attempt: attempt + 1, waitMs: wait, err: e.message },
          'transcription failed; retrying',
        )
        await sleep(wait, options.signal)
      }
    }
  }

  async #attempt(wav: Uint8Array, options: TranscribeOptions, words: boolean): Promise<VerboseJson> {
    const o = this.options
    const server = o.api === 'whisper-server'
    const form = server
      ? whisperServerForm(wav, options, words, this.#multilingual ?? false)
      : openAiForm(wav, this.#model!, options, words)
    const timeout = AbortSignal.timeout(o.timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    const path = server
      ? 'inference'
      : `audio/${options.task === 'translate' ? 'translations' : 'transcriptions'}`
    let res: Awaited<ReturnType<typeof fetch>>
    try {
      res = await fetch(`${o.baseUrl}/${path}`, {
        method: 'POST',
        body: form,
        headers: this.#headers(),
        dispatcher: this.#agent,
        signal,
      })
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
      const what = timeout.aborted ? `no answer in ${o.timeoutMs} ms` : (err as Error).message
      throw new WsError('backend_failed', `${o.baseUrl}: ${what}`, { cause: err, retryable: true })
    }
    if (res.ok) {
      try {
        const body = await res.json()
        return server
          ? fromWhisperServer(body as Parameters<typeof fromWhisperServer>[0], words)
          : (body as VerboseJson)
      } catch (err) {
        if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
        throw new WsError('backend_failed', `${o.baseUrl} sent a body that is not JSON`, {
          cause: err,
          retryable: true,
        })
      }
    }
    const text = (await res.text().catch(() => '')).slice(0, 300)
    const message = `${o.baseUrl} answered ${res.status}: ${apiMessage(text)}`
    if (res.status === 401 || res.status === 403) throw new WsError('unauthorized', message)
    if (res.status === 404) throw new WsError('model_not_found', message)
    if (res.status === 413) throw new WsError('audio_too_large', message)
    if (retryableStatus(res.status)) {
      throw Object.assign(new WsError('backend_failed', message, { retryable: true }), {
        retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
      })
    }
    throw new WsError('backend_failed', message)
  }
}

/** The `error.message` of an OpenAI-style error body, else the body. */
function apiMessage(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: string | { message?: string } }).error
    return (typeof error === 'string' ? error : error?.message) ?? body
  } catch {
    return body
  }
}

const LANGUAGE_NAMES: Record<string, string> = {
  english: 'en',
  german: 'de',
  french: 'fr',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  russian: 'ru',
  chinese: 'zh',
  japanese: 'ja',
  korean: 'ko',
  arabic: 'ar',
  hindi: 'hi',
  polish: 'pl',
  turkish: 'tr',
  ukrainian: 'uk',
  swedish: 'sv',
  czech: 'cs',
  greek: 'el',
  finnish: 'fi',
  danish: 'da',
}

/** An ISO 639-1 code for what a server says (`en`, or OpenAI's `english`); undefined if unknown. */
export function languageCode(value: string | undefined): string | undefined {
  if (!value) return undefined
  const v = value.toLowerCase()
  return /^[a-z]{2,3}$/.test(v) ? v : LANGUAGE_NAMES[v]
}
