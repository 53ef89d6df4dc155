import { type TranscribeOptions, validateTranscribeInput, type WhisperBackend } from '../backend.js'
import { abortError, throwIfAborted, WsError } from '../errors.js'
import { normalizeWord } from '../text/normalize.js'
import { segmentsFromWords, textOfSegments, withoutWords } from '../text/words.js'
import type { Segment, TranscriptResult } from '../types.js'
import type { SyntheticVoice } from './synthetic-voice.js'

export interface FakeBackendCall {
  samples: number
  options: Omit<TranscribeOptions, 'signal'>
}

export interface FakeBackendOptions {
  name?: string
  /** Model names `loadModel` accepts (default `["fake"]`). */
  models?: readonly string[]
  /** Hears audio made by this voice; without it (or `respond`) every result is empty. */
  voice?: SyntheticVoice
  /** Computes the segments for a call (times relative to the audio), instead of `voice`. */
  respond?: (audio: Float32Array, options: TranscribeOptions) => Segment[] | Promise<Segment[]>
  /** Simulated inference time per call, in ms (default 0). An abort ends it at once. */
  delayMs?: number
  /** Declare {@link WhisperBackend.stopsRunningCalls} (default false). */
  stopsRunningCalls?: boolean
  /** Declare {@link WhisperBackend.wordProbabilities} (default false; the fake's words have none unless `respond` gives them). */
  wordProbabilities?: boolean
  /** The language results report when none is asked, as a model detects it (default `en`). */
  detects?: string
  /** Whether the model is multilingual (default: undefined, not said). */
  multilingual?: boolean
}

/**
 * A {@link WhisperBackend} for unit tests of logic that uses a backend. It keeps the whole
 * contract (validation, abort, lifecycle errors, concurrency) and passes the backend
 * conformance suite on synthetic speech. A prompt that contains a heard word spelled
 * differently makes the result use the prompt's spelling, as Whisper's prompts steer spelling.
 */
export class FakeBackend implements WhisperBackend {
  readonly name: string
  readonly stopsRunningCalls: boolean
  readonly wordProbabilities: boolean
  readonly calls: FakeBackendCall[] = []
  /** Calls an abort stopped after they had started. */
  abortedWhileRunning = 0
  readonly #models: readonly string[]
  readonly #options: FakeBackendOptions
  #model: string | undefined
  #closed = false
  #inFlight = 0
  #maxInFlight = 0

  constructor(options: FakeBackendOptions = {}) {
    this.name = options.name ?? 'fake'
    this.stopsRunningCalls = options.stopsRunningCalls ?? false
    this.wordProbabilities = options.wordProbabilities ?? false
    this.#models = options.models ?? ['fake']
    this.#options = options
  }

  get model(): string | undefined {
    return this.#model
  }

  get multilingual(): boolean | undefined {
    return this.#options.multilingual
  }

  /** The most calls that were in flight at once. */
  get maxConcurrency(): number {
    return this.#maxInFlight
  }

  async loadModel(model: string): Promise<void> {
    if (this.#closed) throw new WsError('closed', 'The backend is closed')
    if (!this.#models.includes(model)) {
      throw new WsError('model_not_found', `Unknown model "${model}"; known: ${this.#models.join(', ')}`)
    }
    this.#model = model
  }

  async transcribe(
    audio: Float32Array,
    sampleRate: number,
    options: TranscribeOptions = {},
  ): Promise<TranscriptResult> {
    if (this.#closed) throw new WsError('closed', 'The backend is closed')
    if (!this.#model) throw new WsError('model_not_loaded', 'Call loadModel() before transcribe()')
    throwIfAborted(options.signal, 'transcription')
    validateTranscribeInput(audio, sampleRate, options)
    const { signal, ...rest } = options
    this.calls.push({ samples: audio.length, options: rest })
    const started = performance.now()
    this.#inFlight++
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight)
    try {
      await delay(this.#options.delayMs ?? 0, signal).catch((err: unknown) => {
        this.abortedWhileRunning++
        throw err
      })
      let segments = await this.#segments(audio, options)
      segments = withoutWords(segments, options.wordTimestamps)
      return {
        text: textOfSegments(segments),
        segments,
        language: options.language ?? this.#options.detects ?? 'en',
        processingTimeMs: performance.now() - started,
      }
    } finally {
      this.#inFlight--
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#model = undefined
  }

  async #segments(audio: Float32Array, options: TranscribeOptions): Promise<Segment[]> {
    if (this.#options.respond) return this.#options.respond(audio, options)
    const voice = this.#options.voice
    if (!voice) return []
    const spellings = new Map<string, string>()
    for (const w of (options.initialPrompt ?? '').split(/\s+/)) {
      const bare = w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
      if (bare) spellings.set(normalizeWord(bare), bare)
    }
    const words = voice
      .recognize(audio)
      .map((w) => ({ ...w, text: spellings.get(normalizeWord(w.text)) ?? w.text }))
    return segmentsFromWords(words, 0.5)
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, 'transcription'))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal, 'transcription'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
