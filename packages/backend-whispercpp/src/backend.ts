import { availableParallelism } from 'node:os'
import {
  abortError,
  childLogger,
  findRepetitionRun,
  type Logger,
  noopLogger,
  type Segment,
  type TranscribeOptions,
  type TranscriptResult,
  throwIfAborted,
  validateTranscribeInput,
  type WhisperBackend,
  type Word,
  WsError,
} from '@ws/core'
import { type GgmlFileInfo, type ProgressListener, resolveGgmlModel } from '@ws/models'
import { TranscribeTask, WhisperModel, WhisperSamplingStrategy } from 'smart-whisper'

export interface WhisperCppOptions {
  /** Threads per transcription (default: the cores available). */
  threads?: number
  /** Beam size (default 5; 1 is greedy). */
  beamSize?: number
  /**
   * Encoder window: `auto` (default) sizes it to the audio (plus 1.3 s), which cuts the
   * encoder's work for short buffers, as streaming has, and switches to the full window for
   * calls that want word timestamps (a reduced window makes them wrong); `full` is Whisper's
   * 30 s; or a number of positions (50 a second, at most 1500).
   */
  audioCtx?: 'auto' | 'full' | number
  /** Use a GPU if whisper.cpp was built with one (default false). */
  gpu?: boolean
  modelsDir?: string
  offline?: boolean
  onProgress?: ProgressListener
  logger?: Logger
  env?: NodeJS.ProcessEnv
}

export const DEFAULT_WHISPER_CPP_OPTIONS = { beamSize: 5, audioCtx: 'auto', gpu: false } as const

const POSITIONS_PER_SECOND = 50
const MAX_AUDIO_CTX = 1500
const AUTO_CTX_MARGIN = 64
/** whisper.cpp refuses input under 1000 ms; short audio is padded to this. */
const MIN_SAMPLES = 16_800

function padded(audio: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length)
  out.set(audio)
  return out
}

function validate(options: WhisperCppOptions) {
  const o = { ...DEFAULT_WHISPER_CPP_OPTIONS, threads: availableParallelism(), ...options }
  const bad = (message: string): never => {
    throw new WsError('invalid_config', `WhisperCppBackend: ${message}`)
  }
  if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 256)
    bad(`threads must be 1 to 256, got ${o.threads}`)
  if (!Number.isInteger(o.beamSize) || o.beamSize < 1 || o.beamSize > 16)
    bad(`beamSize must be 1 to 16, got ${o.beamSize}`)
  if (
    typeof o.audioCtx === 'number' &&
    !(Number.isInteger(o.audioCtx) && o.audioCtx >= 64 && o.audioCtx <= MAX_AUDIO_CTX)
  ) {
    bad(`audioCtx must be 'auto', 'full' or 64 to ${MAX_AUDIO_CTX}`)
  }
  return o
}

interface Job {
  run: () => Promise<void>
  signal: AbortSignal | undefined
  reject: (error: Error) => void
}

/**
 * Whisper through whisper.cpp, in this process: the smart-whisper addon runs inference on
 * libuv's thread pool, so the event loop never blocks. One model is loaded and shared;
 * transcriptions run one at a time (each already uses every core), queued in order.
 * An abort rejects at once; a transcription already running finishes in the background
 * (whisper.cpp cannot stop mid-call) and its result is dropped.
 */
export class WhisperCppBackend implements WhisperBackend {
  readonly name = 'whisper.cpp'
  readonly options: ReturnType<typeof validate>
  readonly #log: Logger
  #model: WhisperModel | undefined
  #info: GgmlFileInfo | undefined
  #file: string | undefined
  #queue: Job[] = []
  #running = false
  #closed = false

  constructor(options: WhisperCppOptions = {}) {
    this.options = validate(options)
    this.#log = childLogger(options.logger ?? noopLogger, { backend: 'whisper.cpp' })
  }

  /** The ggml file in use, once loaded. */
  get modelFile(): string | undefined {
    return this.#file
  }

  get multilingual(): boolean | undefined {
    return this.#info ? this.#info.hparams.nVocab >= 51865 : undefined
  }

  async loadModel(model: string): Promise<void> {
    this.#assertOpen()
    const o = this.options
    const resolved = await resolveGgmlModel(model, {
      modelsDir: o.modelsDir,
      offline: o.offline,
      onProgress: o.onProgress,
      env: o.env,
    })
    const { info } = resolved
    let loaded: WhisperModel
    try {
      loaded = await WhisperModel.load(resolved.file, o.gpu)
    } catch (err) {
      throw new WsError(
        'model_load_failed',
        `whisper.cpp could not load ${resolved.file}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    if (this.#closed) {
      await loaded.free()
      throw new WsError('closed', 'The backend is closed')
    }
    const previous = this.#model
    this.#model = loaded
    this.#info = info
    this.#file = resolved.file
    this.#log.info({ file: resolved.file, source: resolved.source }, 'whisper.cpp model loaded')
    if (previous) await this.#enqueue(() => previous.free(), undefined)
  }

  transcribe(
    audio: Float32Array,
    sampleRate: number,
    options: TranscribeOptions = {},
  ): Promise<TranscriptResult> {
    try {
      this.#assertOpen()
      if (!this.#model) throw new WsError('model_not_loaded', 'Call loadModel() before transcribe()')
      throwIfAborted(options.signal, 'transcription')
      validateTranscribeInput(audio, sampleRate)
      if (!this.multilingual && options.language && options.language !== 'en') {
        throw new WsError(
          'invalid_config',
          `This model is English-only; it cannot take language "${options.language}"`,
        )
      }
      if (!this.multilingual && options.task === 'translate') {
        throw new WsError('invalid_config', 'This model is English-only; it cannot translate')
      }
    } catch (err) {
      return Promise.reject(err)
    }
    let result: TranscriptResult | undefined
    return this.#enqueue(async () => {
      result = await this.#run(audio, options)
    }, options.signal).then(() => result!)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const job of this.#queue.splice(0)) job.reject(new WsError('closed', 'The backend was closed'))
    while (this.#running) await new Promise((r) => setTimeout(r, 10))
    const model = this.#model
    this.#model = undefined
    await model?.free()
  }

  #assertOpen(): void {
    if (this.#closed) throw new WsError('closed', 'The backend is closed')
  }

  #enqueue(run: () => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#queue.indexOf(job)
        if (i >= 0) this.#queue.splice(i, 1)
        reject(abortError(signal!, 'transcription'))
      }
      const job: Job = {
        signal,
        reject,
        run: () =>
          run()
            .then(resolve, reject)
            .finally(() => signal?.removeEventListener('abort', onAbort)),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(job)
      void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    if (this.#running) return
    this.#running = true
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        if (job.signal?.aborted) continue
        await job.run().catch(() => {})
      }
    } finally {
      this.#running = false
    }
  }

  async #run(input: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    const model = this.#model
    if (!model) throw new WsError('closed', 'The backend is closed')
    const o = this.options
    const seconds = input.length / 16_000
    // whisper.cpp returns nothing for less than a second of audio: pad short audio with silence.
    const audio = input.length >= MIN_SAMPLES ? input : padded(input, MIN_SAMPLES)
    const words = options.wordTimestamps ?? false
    // A reduced encoder window breaks whisper.cpp's token timestamps (words pile up at the
    // end of the audio) and invites repetition loops, so `auto` uses the full window when
    // word times are asked for.
    const audioCtx =
      o.audioCtx === 'full' || (o.audioCtx === 'auto' && words)
        ? 0
        : o.audioCtx === 'auto'
          ? Math.min(
              MAX_AUDIO_CTX,
              Math.ceil((audio.length / 16_000) * POSITIONS_PER_SECOND) + AUTO_CTX_MARGIN,
            )
          : o.audioCtx
    const started = performance.now()
    let decoded = await this.#decode(model, audio, options, audioCtx, words, seconds)
    if (audioCtx !== 0 && !options.preview && hasLoop(decoded.segments)) {
      // A reduced encoder window sometimes makes whisper.cpp repeat itself; the full window
      // does not (measured on the speech fixtures), so such a result is decoded again.
      this.#log.debug(
        { text: decoded.segments.map((s) => s.text).join(' ') },
        'repetition; decoding with the full window',
      )
      decoded = await this.#decode(model, audio, options, 0, words, seconds)
    }
    const { segments, language } = decoded
    return {
      text: segments.map((s) => s.text).join(' '),
      segments,
      language,
      processingTimeMs: Math.round(performance.now() - started),
    }
  }

  async #decode(
    model: WhisperModel,
    audio: Float32Array,
    options: TranscribeOptions,
    audioCtx: number,
    words: boolean,
    seconds: number,
  ): Promise<{ segments: Segment[]; language: string }> {
    const o = this.options
    // A preview is decoded greedily without the temperature fallback: several times faster,
    // and a later call replaces it anyway.
    const beamSize = options.preview ? 1 : o.beamSize
    let results: Awaited<TranscribeTask<'detail', boolean>['result']>
    try {
      const task = await TranscribeTask.run(model, audio, {
        language: options.language ?? (this.multilingual ? 'auto' : 'en'),
        translate: options.task === 'translate',
        initial_prompt: options.initialPrompt ?? '',
        n_threads: o.threads,
        strategy:
          beamSize > 1
            ? WhisperSamplingStrategy.WHISPER_SAMPLING_BEAM_SEARCH
            : WhisperSamplingStrategy.WHISPER_SAMPLING_GREEDY,
        beam_size: beamSize,
        best_of: options.preview ? 1 : 5,
        temperature: 0,
        temperature_inc: options.preview ? 0 : 0.2,
        no_context: true,
        audio_ctx: audioCtx === MAX_AUDIO_CTX ? 0 : audioCtx,
        token_timestamps: words,
        format: 'detail',
      })
      results = await task.result
    } catch (err) {
      throw new WsError('backend_failed', `whisper.cpp failed: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
    const clamp = (t: number) => Math.max(0, Math.min(seconds, t / 1000))
    const segments: Segment[] = []
    let language = options.language ?? 'en'
    for (const r of results) {
      if (r.lang) language = r.lang
      const text = r.text.trim()
      if (!text) continue
      const segment: Segment = { start: clamp(r.from), end: clamp(r.to), text }
      if (words) segment.words = wordsFromTokens(r.tokens, clamp)
      segments.push(segment)
    }
    return { segments, language }
  }
}

/** A phrase of five or more words said twice in a row, or a shorter one three times: a decoding loop. */
export function hasLoop(segments: readonly Segment[]): boolean {
  let words = segments.flatMap((s) => s.text.split(/\s+/)).filter(Boolean)
  for (;;) {
    const run = findRepetitionRun(words, { maxNgram: 24, minRepeats: 2 })
    if (!run) return false
    if (run.ngram >= 5 || run.repeats >= 3) return true
    words = words.slice(run.start + 1)
  }
}

/** Joins whisper.cpp's tokens into words: a token starting with a space starts a word. */
function wordsFromTokens(
  tokens: readonly { text: string; p: number; from?: number; to?: number }[],
  clamp: (ms: number) => number,
): Word[] {
  const words: Word[] = []
  let current: { text: string; start: number; end: number; p: number[] } | undefined
  const flush = () => {
    if (current?.text.trim()) {
      const probability = current.p.reduce((a, b) => a + b, 0) / current.p.length
      words.push({ start: current.start, end: current.end, text: current.text.trim(), probability })
    }
    current = undefined
  }
  for (const t of tokens) {
    if (t.text.startsWith('[_') || t.text.startsWith('<|')) continue
    const from = clamp(t.from ?? 0)
    const to = clamp(t.to ?? 0)
    if (!current || t.text.startsWith(' ')) {
      flush()
      current = { text: t.text, start: from, end: to, p: [t.p] }
    } else {
      current.text += t.text
      current.end = Math.max(current.end, to)
      current.p.push(t.p)
    }
  }
  flush()
  // Keep times monotonic (token times from whisper.cpp can jitter by a frame).
  for (let i = 1; i < words.length; i++) {
    if (words[i]!.start < words[i - 1]!.start) words[i]!.start = words[i - 1]!.start
    if (words[i]!.end < words[i]!.start) words[i]!.end = words[i]!.start
  }
  return words
}
