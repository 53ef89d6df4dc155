import { availableParallelism, endianness } from 'node:os'
import {
  BackendBase,
  degenerateText,
  encodePcmF32le,
  FINAL_WINDOWS,
  type FinalWindow,
  fittedFinal,
  type Logger,
  MAX_BEAM_SIZE,
  type NoSpeechRule,
  noSpeechRuleAt,
  optionChecker,
  type Segment,
  type TranscribeOptions,
  type TranscriptResult,
  validateNoSpeechRule,
  WHISPER_SAMPLE_RATE,
  WsError,
  withDefaults,
  withoutNonSpeech,
} from '@ws/core'
import { type ModelSourceOptions, modelSource, type ResolvedModel, resolveCt2Model } from '@ws/models'
import { ensurePythonEnv } from './python-env.js'
import { WorkerProcess, type WorkerReady } from './worker.js'

/** Also `modelsDir`, `offline`, `onProgress` (model download and venv creation) and `env`. */
export interface FasterWhisperOptions extends ModelSourceOptions {
  /** A Python that has faster-whisper; default: a managed venv, created on first use. */
  python?: string
  /** Where the managed venv lives (see ensurePythonEnv). */
  venvDir?: string
  /** `cpu` (default), `cuda` or `auto`. */
  device?: string
  /** CTranslate2 compute type (default `int8`, fastest on CPU). */
  computeType?: string
  /** Threads for inference (default: the cores available). */
  cpuThreads?: number
  /** Beam size, 1–`MAX_BEAM_SIZE` (8) as on every backend (default 5, faster-whisper's own default; 1 is greedy and faster). */
  beamSize?: number
  /**
   * Requests waiting together in the worker that run as one batch, at most (default 4;
   * 1 never batches). Only requests with a known language, ≤ 30 s of audio and the same
   * options are batched; they decode at temperature 0 without faster-whisper's fallback.
   */
  maxBatch?: number
  /**
   * Silence after the audio in the window the encoder runs on for a streaming session's calls
   * (`preview`, `live`; default 2560 ms; 0: faster-whisper's own transcribe on its fixed 30 s
   * window). The encoder's cost grows with its window: a 3 s sentence on a 5.9 s window takes
   * about a third of the time. Everything else — a whole clip, a file, a REST call, a
   * revision — runs on the full 30 s window, where nobody waits in real time and accuracy
   * comes first: on 80 real English clips (tiny.en) 2.7 % WER against 3.9 % at the margin
   * (beam 5), 3.3 against 3.5 % (beam 1). A result that fails faster-whisper's quality checks
   * on a reduced window is decoded again on the full one.
   */
  windowMarginMs?: number
  /**
   * The window of a session's finals (`live` calls): `full` (default) faster-whisper's 30 s,
   * as a whole clip gets; `fitted` the audio plus `windowMarginMs`, for speed; `auto` full
   * unless the call is `busy` (a scheduler's final that waited for another final or runs
   * beside one), then fitted. On real English streams (tiny.en, `prompt`) full-window finals
   * read 2.4 % WER against 5.2 % fitted (offline: 1.7 %) at about 3× each final's decode
   * time. Previews stay fitted. `full` stays the default here: finals that come together run
   * as one batch on the full window, and `auto` (which splits them into a full and a fitted
   * batch) measured no gain (two sessions at once: finals p95 1.87 s against 1.73 s).
   */
  finalWindow?: FinalWindow
  /**
   * Text the model made up where nobody spoke is dropped: a segment with no word ("♪♪", ".")
   * and one whose window the model rates as no speech while unsure of its words
   * ({@link NoSpeechRule}; default {@link DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE}). faster-whisper's
   * own rule (0.6, -1) runs inside too. `false` keeps everything.
   */
  noSpeech?: NoSpeechRule | false
  /** Delay before restarting a crashed worker: doubles from `initialMs` up to `maxMs`. */
  restartBackoff?: { initialMs: number; maxMs: number }
  logger?: Logger
}

/**
 * The no-speech rule's thresholds for faster-whisper, chosen on real speech and real
 * non-speech (tiny.en, greedy, full window; the server README's "Words where nobody spoke").
 * On 80 real English clips no window rated over 0.18 as no speech (clean or under 10 dB of
 * noise; misheard segments at 0 dB up to 0.43), where the non-speech set's made-up text rated
 * 0.43–0.95. faster-whisper's own 0.6 / -1 let 6 words through ("you" over digital silence at
 * -0.91, "You" over a jackhammer at -0.95); these let none, with the same WER on speech.
 */
export const DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE: Readonly<NoSpeechRule> = Object.freeze({
  noSpeechThreshold: 0.4,
  logprobThreshold: -0.8,
})

/** A segment as the worker sends it. */
type WorkerSegment = Segment & { no_speech_prob?: number; avg_logprob?: number }

export const DEFAULT_FASTER_WHISPER_OPTIONS = {
  device: 'cpu',
  computeType: 'int8',
  beamSize: 5,
  maxBatch: 4,
  windowMarginMs: 2560,
  finalWindow: 'full',
  noSpeech: DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE as NoSpeechRule | false,
  restartBackoff: { initialMs: 250, maxMs: 10_000 },
} as const

const FULL_WINDOW_SECONDS = 30
/**
 * Silence after the audio when a preview that repeated itself is decoded again: no sentence
 * of seventy looped at this margin, and it costs far less than the full window.
 */
const PREVIEW_RETRY_MARGIN_MS = 7680

function validate(options: FasterWhisperOptions) {
  const o = withDefaults({ ...DEFAULT_FASTER_WHISPER_OPTIONS, cpuThreads: availableParallelism() }, options)
  const check = optionChecker('FasterWhisperBackend')
  check.integer('beamSize', o.beamSize, 1, MAX_BEAM_SIZE)
  check.integer('maxBatch', o.maxBatch, 1, 64)
  check.integer('windowMarginMs', o.windowMarginMs, 0, 30_000)
  check.oneOf('finalWindow', o.finalWindow, FINAL_WINDOWS)
  check.integer('cpuThreads', o.cpuThreads, 0, 256)
  check.string('device', o.device, 'cpu')
  check.string('computeType', o.computeType, 'int8')
  const { initialMs, maxMs } = o.restartBackoff
  check.that(initialMs >= 0 && maxMs >= initialMs, 'restartBackoff needs 0 <= initialMs <= maxMs')
  validateNoSpeechRule(o.noSpeech, 'FasterWhisperBackend')
  return o
}

/**
 * Whisper through faster-whisper (CTranslate2), in a long-lived Python worker process, so
 * inference never blocks the event loop. Requests from any number of callers are sent to
 * the worker at once and matched to its answers by id. A worker that dies fails its
 * requests in flight with a retryable `backend_failed`, and the next request starts a new
 * one (after a growing delay if it keeps dying).
 */
export class FasterWhisperBackend extends BackendBase<ReturnType<typeof validate>> {
  /** Word timestamps carry faster-whisper's probability for each word. */
  readonly wordProbabilities = true
  #model: ResolvedModel | undefined
  #python: string | undefined
  #worker: WorkerProcess | undefined
  #starting: Promise<WorkerProcess> | undefined
  #workerInfo: WorkerReady | undefined
  #failures = 0
  #stats = { requests: 0, batchedRequests: 0, reducedWindowRequests: 0, workerStarts: 0 }

  constructor(options: FasterWhisperOptions = {}) {
    super('faster-whisper', validate(options), options.logger)
  }

  /** The loaded model, once `loadModel` has resolved. */
  get model(): ResolvedModel | undefined {
    return this.#model
  }

  /** The worker's process id, while one runs. */
  get workerPid(): number | undefined {
    return this.#worker?.alive ? this.#worker.pid : undefined
  }

  /** Requests answered, how many of them in a batch, and how often a worker was started. */
  get stats(): Readonly<{
    requests: number
    batchedRequests: number
    reducedWindowRequests: number
    workerStarts: number
  }> {
    return { ...this.#stats }
  }

  get multilingual(): boolean | undefined {
    return this.#workerInfo?.multilingual ?? this.#model?.multilingual
  }

  protected get modelLoaded(): boolean {
    return this.#model !== undefined
  }

  protected async loadModelImpl(model: string): Promise<void> {
    const o = this.options
    const resolved = await resolveCt2Model(model, modelSource(o))
    this.#python ??=
      o.python ??
      (
        await ensurePythonEnv({
          venvDir: o.venvDir,
          onProgress: o.onProgress,
          env: o.env,
        })
      ).python
    this.assertOpen()
    if (this.#worker && this.#model?.dir !== resolved.dir) {
      const old = this.#worker
      this.#worker = undefined
      await old.stop()
    }
    this.#model = resolved
    this.#failures = 0
    try {
      await this.#ensureWorker()
    } catch (err) {
      this.#model = undefined
      throw err
    }
  }

  protected async transcribeImpl(audio: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    const worker = await this.#ensureWorker(options.signal)
    // The worker reads float32 little-endian: the samples as they are on a little-endian host.
    const bytes =
      endianness() === 'LE'
        ? new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength)
        : encodePcmF32le(audio)
    const started = performance.now()
    // Nobody waits in real time for a call that is neither a preview nor live: full window;
    // a final too when `finalWindow` says so (`auto`: unless the engine is busy).
    const fitted = options.preview || (options.live && fittedFinal(this.options.finalWindow, options.busy))
    let result = await this.#request(worker, bytes, options, fitted ? this.options.windowMarginMs : 0)
    const reduced = Number(result.window_s) < FULL_WINDOW_SECONDS
    if (reduced && degenerateText(String(result.text), audio.length / WHISPER_SAMPLE_RATE)) {
      // A reduced window sometimes makes Whisper repeat itself where a wider one does not (as
      // in @ws/backend-whispercpp): a preview is decoded again with more silence, a final on
      // faster-whisper's full window with its temperature fallback.
      this.log.debug({ text: result.text }, 'repetition; decoding with a wider window')
      result = await this.#request(worker, bytes, options, options.preview ? PREVIEW_RETRY_MARGIN_MS : 0)
    }
    if (Number(result.window_s) < FULL_WINDOW_SECONDS) this.#stats.reducedWindowRequests++
    // The scores the worker sends with each segment decide, then stay out of the result.
    const scored = (result.segments as WorkerSegment[]).map(({ no_speech_prob, avg_logprob, ...s }) => ({
      segment: s.words ? s : { start: s.start, end: s.end, text: s.text },
      text: s.text,
      noSpeechProb: no_speech_prob,
      avgLogprob: avg_logprob,
    }))
    const reducedWindow = Number(result.window_s) < FULL_WINDOW_SECONDS
    const segments = withoutNonSpeech(
      scored,
      noSpeechRuleAt(this.options.noSpeech, reducedWindow, options.preview),
      options.initialPrompt,
    ).map((x) => x.segment)
    return {
      text: segments.length === scored.length ? String(result.text) : segments.map((s) => s.text).join(' '),
      segments,
      language: String(result.language),
      processingTimeMs: Math.round(performance.now() - started),
    }
  }

  async #request(
    worker: WorkerProcess,
    bytes: Uint8Array,
    options: TranscribeOptions,
    windowMarginMs: number,
  ): Promise<Record<string, unknown>> {
    let result: Record<string, unknown>
    try {
      result = await worker.request(
        {
          type: 'transcribe',
          sample_rate: 16_000,
          language: options.language ?? null,
          task: options.task ?? 'transcribe',
          initial_prompt: options.initialPrompt ?? null,
          word_timestamps: options.wordTimestamps ?? false,
          beam_size: options.preview ? 1 : (options.beamSize ?? this.options.beamSize),
          preview: options.preview ?? false,
          // faster-whisper's temperature fallback only where nobody waits (a clip, a file):
          // on live finals it took 1.2–10 s to sample a made-up "Thank you." (see the README).
          fallback: !options.live && !options.preview,
          window_margin_ms: windowMarginMs,
          // faster-whisper's own rule (0.6, -1), which also keeps it from sampling silence
          // again; the backend's, stricter, is applied to what comes back.
          no_speech: this.options.noSpeech !== false,
        },
        bytes,
        options.signal,
      )
    } catch (err) {
      if (!worker.alive) this.#failures++
      throw err
    }
    this.#failures = 0
    this.#stats.requests++
    if (Number(result.batch_size) > 1) this.#stats.batchedRequests++
    return result
  }

  protected async closeImpl(): Promise<void> {
    const starting = this.#starting
    this.#starting = undefined
    const worker = this.#worker ?? (await starting?.catch(() => undefined))
    this.#worker = undefined
    await worker?.stop()
  }

  async #ensureWorker(signal?: AbortSignal): Promise<WorkerProcess> {
    if (this.#worker?.alive) return this.#worker
    if (!this.#starting) {
      this.#starting = this.#start().finally(() => {
        this.#starting = undefined
      })
    }
    const starting = this.#starting
    if (!signal) return starting
    return new Promise((resolve, reject) => {
      const onAbort = () =>
        reject(new WsError('aborted', 'The transcription was aborted', { cause: signal.reason }))
      signal.addEventListener('abort', onAbort, { once: true })
      starting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async #start(): Promise<WorkerProcess> {
    const { initialMs, maxMs } = this.options.restartBackoff
    if (this.#failures > 0) {
      const delay = Math.min(maxMs, initialMs * 2 ** (this.#failures - 1))
      this.log.warn({ failures: this.#failures, delayMs: delay }, 'restarting the faster-whisper worker')
      await new Promise((r) => setTimeout(r, delay))
    }
    this.assertOpen()
    const model = this.#model!
    this.#stats.workerStarts++
    const worker = new WorkerProcess({
      python: this.#python!,
      modelDir: model.dir,
      device: this.options.device,
      computeType: this.options.computeType,
      cpuThreads: this.options.cpuThreads,
      beamSize: this.options.beamSize,
      maxBatch: this.options.maxBatch,
      logger: this.log,
      ...(this.options.env ? { env: this.options.env } : {}),
    })
    try {
      this.#workerInfo = await worker.ready
    } catch (err) {
      this.#failures++
      await worker.stop()
      throw err
    }
    if (this.closed) {
      await worker.stop()
      throw new WsError('closed', 'The backend is closed')
    }
    this.log.info(
      { pid: worker.pid, model: model.name, loadTimeMs: this.#workerInfo.loadTimeMs },
      'faster-whisper worker ready',
    )
    this.#worker = worker
    return worker
  }
}
