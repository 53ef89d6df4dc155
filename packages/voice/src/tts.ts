import { spawn } from 'node:child_process'
import { abortError, readWavMono, WsError, withDefaults } from '@ws/core'

export interface SynthesizeOptions {
  signal?: AbortSignal
}

/**
 * Text to speech. `synthesize()` resolves with a WAV file (mono PCM) and throws
 * {@link WsError} `tts_failed` (retryable when the engine could not be reached) or `aborted`.
 * `voice` names what changes the sound, so a cache keyed by it and the text is exact.
 */
export interface SpeechSynthesizer {
  readonly voice: string
  synthesize(text: string, options?: SynthesizeOptions): Promise<Uint8Array>
  close(): Promise<void>
}

export interface EspeakOptions {
  /** espeak-ng voice (default `en-us`). */
  voice?: string
  /** Words per minute (default 175). */
  wordsPerMinute?: number
  /** The program (default `espeak-ng` on PATH). */
  command?: string
}

export const DEFAULT_ESPEAK_OPTIONS = { voice: 'en-us', wordsPerMinute: 175, command: 'espeak-ng' } as const

/**
 * espeak-ng (Debian/Ubuntu `apt install espeak-ng`, macOS `brew install espeak-ng`): a
 * process per sentence, the text on its standard input (never its command line), 22 050 Hz
 * WAV on its standard output. Fast (tens of milliseconds a sentence) and robotic.
 */
export class EspeakSynthesizer implements SpeechSynthesizer {
  readonly voice: string
  readonly #o: Required<EspeakOptions>

  constructor(options: EspeakOptions = {}) {
    this.#o = withDefaults(DEFAULT_ESPEAK_OPTIONS, options)
    if (!/^[\w+-]+$/.test(this.#o.voice))
      throw new WsError('invalid_config', `Bad espeak-ng voice ${JSON.stringify(this.#o.voice)}`)
    const wpm = this.#o.wordsPerMinute
    if (!(Number.isInteger(wpm) && wpm >= 80 && wpm <= 450))
      throw new WsError('invalid_config', `wordsPerMinute must be an integer from 80 to 450, got ${wpm}`)
    this.voice = `espeak-ng:${this.#o.voice}:${wpm}`
  }

  synthesize(text: string, options: SynthesizeOptions = {}): Promise<Uint8Array> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(abortError(signal, 'speech'))
    return new Promise<Uint8Array>((resolve, reject) => {
      const child = spawn(
        this.#o.command,
        ['--stdout', '-v', this.#o.voice, '-s', String(this.#o.wordsPerMinute)],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      )
      const out: Buffer[] = []
      let err = ''
      const onAbort = () => child.kill('SIGKILL')
      signal?.addEventListener('abort', onAbort, { once: true })
      child.stdout.on('data', (b: Buffer) => out.push(b))
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString()
      })
      child.on('error', (e: NodeJS.ErrnoException) => {
        signal?.removeEventListener('abort', onAbort)
        const missing = e.code === 'ENOENT'
        reject(
          new WsError(
            'tts_failed',
            missing
              ? `${this.#o.command} is not installed (Debian/Ubuntu: apt install espeak-ng; macOS: brew install espeak-ng)`
              : `${this.#o.command} failed: ${e.message}`,
            { cause: e },
          ),
        )
      })
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort)
        if (signal?.aborted) return reject(abortError(signal, 'speech'))
        if (code !== 0)
          return reject(
            new WsError('tts_failed', `${this.#o.command} exited ${code}: ${err.trim().slice(0, 200)}`),
          )
        try {
          resolve(fixStreamedWav(Buffer.concat(out)))
        } catch (e) {
          reject(
            new WsError('tts_failed', `${this.#o.command} wrote no WAV: ${(e as Error).message}`, {
              cause: e,
            }),
          )
        }
      })
      child.stdin.on('error', () => {}) // a child that died early: reported by 'close'
      child.stdin.end(text.replace(/\s+/g, ' '))
    })
  }

  async close(): Promise<void> {}
}

/**
 * A WAV written to a pipe carries placeholder sizes (its writer cannot seek back): the RIFF
 * and data sizes are set from the bytes received, so every player and parser accepts it.
 */
export function fixStreamedWav(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes)
  if (b.length < 44 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a RIFF/WAVE file')
  let at = 12
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4)
    if (id === 'data') {
      b.writeUInt32LE(b.length - at - 8, at + 4)
      b.writeUInt32LE(b.length - 8, 4)
      readWavMono(b) // throws when the result is still not a WAV
      return b
    }
    at += 8 + b.readUInt32LE(at + 4)
  }
  throw new Error('no data chunk')
}

export interface OpenAiSpeechOptions {
  /** The API's base URL, up to `/v1`. */
  baseUrl: string
  /** Default `tts-1`. */
  model?: string
  /** Default `alloy`. */
  voice?: string
  apiKey?: string
  /** Default 30 000. */
  timeoutMs?: number
  fetch?: typeof fetch
}

/** Any OpenAI-compatible `POST /audio/speech` (OpenAI, speaches, Kokoro-FastAPI…), asked for WAV. */
export class OpenAiSpeechSynthesizer implements SpeechSynthesizer {
  readonly voice: string
  readonly #o: Required<Omit<OpenAiSpeechOptions, 'apiKey' | 'fetch'>> & OpenAiSpeechOptions

  constructor(options: OpenAiSpeechOptions) {
    this.#o = withDefaults({ model: 'tts-1', voice: 'alloy', timeoutMs: 30_000 }, options)
    try {
      new URL(this.#o.baseUrl)
    } catch {
      throw new WsError('invalid_config', `baseUrl is not a URL: ${JSON.stringify(options.baseUrl)}`)
    }
    this.voice = `${this.#o.baseUrl}:${this.#o.model}:${this.#o.voice}`
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<Uint8Array> {
    const o = this.#o
    const timeout = AbortSignal.timeout(o.timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    try {
      const response = await (o.fetch ?? fetch)(`${o.baseUrl.replace(/\/+$/, '')}/audio/speech`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: o.model, voice: o.voice, input: text, response_format: 'wav' }),
        signal,
      })
      if (!response.ok) {
        const body = (await response.text().catch(() => '')).slice(0, 200)
        throw new WsError('tts_failed', `Speech endpoint answered ${response.status}: ${body}`, {
          retryable: response.status === 429 || response.status >= 500,
        })
      }
      return fixStreamedWav(new Uint8Array(await response.arrayBuffer()))
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal, 'speech')
      if (err instanceof WsError) throw err
      throw new WsError('tts_failed', `Speech endpoint at ${o.baseUrl} failed: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
  }

  async close(): Promise<void> {}
}
