import { availableParallelism } from 'node:os'
import {
  abortError,
  BackendBase,
  degenerateText,
  doubledTail,
  FINAL_WINDOWS,
  type FinalWindow,
  type Logger,
  MAX_BEAM_SIZE,
  type NoSpeechRule,
  noSpeechRuleAt,
  optionChecker,
  type Segment,
  type TranscribeOptions,
  type TranscriptResult,
  validateNoSpeechRule,
  WsError,
  withDefaults,
  withoutNonSpeech,
} from '@ws/core'
import { type GgmlFileInfo, type ModelSourceOptions, modelSource, resolveGgmlModel } from '@ws/models'
import {
  type Segment as AddonSegment,
  setWhisperLogger,
  WhisperAddonError,
  WhisperModel,
} from '@ws/whispercpp-addon'
import { encoderWindow, isReduced, MAX_AUDIO_CTX, RETRY_CTX_MARGIN, unsureFinal } from './encoder-window.js'
import { alignmentHeads, findLoop, firstWords, hasLoop, paddedToMinimum, wordsFromTokens } from './results.js'
import { SerialQueue } from './serial-queue.js'

export { hasLoop }

/** One decode: its segments past the no-speech rule, its window, and what whisper.cpp said. */
interface Decoded {
  segments: Segment[]
  language: string
  audioCtx: number
  /** whisper.cpp's segments, with their scores, before the no-speech rule. */
  raw: readonly AddonSegment[]
}

/** Also `modelsDir`, `offline`, `onProgress` (model download or conversion) and `env`. */
export interface WhisperCppOptions extends ModelSourceOptions {
  /** Threads per transcription (default: the cores available). */
  threads?: number
  /**
   * Threads for a preview (a partial, which a later call replaces), at most `threads`
   * (default 1). On tiny.en with 2 s of audio one thread took 87 ms of CPU where two took
   * 131 ms, for 89 instead of 76 ms: partials are most of a session's work, finals its latency.
   */
  previewThreads?: number
  /**
   * Threads for a call nobody waits for (`background`: a session's revision), at most
   * `threads` (default 1). tiny.en, 2 cores, 20.8 s of speech: alone, 1.06 CPU-s on one
   * thread against 1.14–1.18 on two, 1.06 instead of 0.6 s of wall time; inside a real-time
   * session, whose other work shares the cores, 1.1–1.3 against 1.5–1.6 CPU-s.
   */
  backgroundThreads?: number
  /** Beam size, 1–`MAX_BEAM_SIZE` (8: whisper.cpp's most decoders; default 5; 1 is greedy). */
  beamSize?: number
  /**
   * Encoder window: `auto` (default) sizes it to the audio (plus 2.6 s; 1.3 s for a preview)
   * for a streaming session's calls (`preview`, `live`), which cuts the encoder's work for
   * short buffers (word times come from DTW alignment, which holds at a reduced window), and
   * takes Whisper's full 30 s for everything else — a whole clip, a file, a REST call — where
   * nobody waits in real time and accuracy comes first: on 80 real English clips (tiny.en) the
   * full window reads 2.4 % WER against 3.1 % (beam 1) and 2.5 % against 3.8 % (beam 5).
   * `full` is always 30 s; or a number of positions (50 a second, at most 1500).
   */
  audioCtx?: 'auto' | 'full' | number
  /**
   * The window of a session's finals (`live` calls) under `audioCtx: 'auto'`: `full`
   * Whisper's 30 s, as a whole clip gets; `fitted` sized to the audio like a preview's;
   * `auto` (default) at least `minFinalWindowMs` while the engine is free, fitted for a final
   * that is `busy` (it waited for another final). Previews stay fitted.
   */
  finalWindow?: FinalWindow
  /**
   * Under `finalWindow: 'auto'`, the shortest encoder window of a final the engine is free for
   * (default {@link DEFAULT_MIN_FINAL_WINDOW_MS}: 30 000, Whisper's full window; 15 000 halves
   * a final's decode for some accuracy). Whatever the window, a live final the model was unsure
   * of is decoded again on the full window without its prompt (`UNSURE_FINAL` in
   * encoder-window.ts), so made-up text over noise is still dropped by the no-speech rule.
   */
  minFinalWindowMs?: number
  /**
   * Text the model made up where nobody spoke is dropped: a segment with no word ("♪♪", ".")
   * and one the model rates as no speech while unsure of its words ({@link NoSpeechRule};
   * default {@link DEFAULT_WHISPER_CPP_NO_SPEECH_RULE}). `false` keeps every segment.
   */
  noSpeech?: NoSpeechRule | false
  /** Use a GPU if whisper.cpp was built with one (default false). */
  gpu?: boolean
  logger?: Logger
}

/**
 * The no-speech rule's thresholds for whisper.cpp, chosen on real speech and real non-speech
 * (tiny.en, greedy, full window; the server README's "Words where nobody spoke"). On 80 real
 * English clips no segment rated over 0.08 as no speech clean, 0.10 under 10 dB of noise (one
 * misheard segment at 0 dB rated 0.42), where the non-speech set's made-up text rated
 * 0.38–0.95. At Whisper's own 0.6 two "Mmm." over traffic and a field stayed (0.46, 0.48, both
 * at log-probability -1.9); at 0.4 none did, with the same WER on every speech set.
 */
export const DEFAULT_WHISPER_CPP_NO_SPEECH_RULE: Readonly<NoSpeechRule> = Object.freeze({
  noSpeechThreshold: 0.4,
  logprobThreshold: -1,
})

/**
 * The shortest window of a final under `finalWindow: 'auto'`: Whisper's full 30 s. A 15 s window
 * (15 000) halves each final's decode (tiny.en, 2 × AMD EPYC: 431 → 194 ms; one live session's
 * final p50 / p95 from the end of speech 382 / 464 ms) for WER on real English finals (`prompt`,
 * virtual clock) of 2.4 → 4.2 % on the 2 real streams and 3.1 → 2.7 % on 8 streams of 80 other
 * clips (offline 1.7 %); `base` 1.95 → 2.13 % on both sets. The streams' loss is past the
 * project's one point from offline, so the full window stays the default.
 */
export const DEFAULT_MIN_FINAL_WINDOW_MS = 30_000

export const DEFAULT_WHISPER_CPP_OPTIONS = {
  beamSize: 5,
  audioCtx: 'auto',
  finalWindow: 'auto',
  minFinalWindowMs: DEFAULT_MIN_FINAL_WINDOW_MS,
  gpu: false,
  previewThreads: 1,
  backgroundThreads: 1,
  noSpeech: DEFAULT_WHISPER_CPP_NO_SPEECH_RULE as NoSpeechRule | false,
} as const

/** What whisper.cpp logs when its abort callback stopped a call. */
const ABORT_LINE = /failed to (encode|decode)|callback returned false - aborting/
/** Tokens a second of speech never exceeds (fast speech is about four). */
const MAX_TOKENS_PER_SECOND = 10

function validate(options: WhisperCppOptions) {
  const o = withDefaults({ ...DEFAULT_WHISPER_CPP_OPTIONS, threads: availableParallelism() }, options)
  const check = optionChecker('WhisperCppBackend')
  check.integer('threads', o.threads, 1, 256)
  check.integer('previewThreads', o.previewThreads, 1, 256)
  check.integer('backgroundThreads', o.backgroundThreads, 1, 256)
  check.integer('beamSize', o.beamSize, 1, MAX_BEAM_SIZE)
  if (typeof o.audioCtx === 'number') check.integer('audioCtx', o.audioCtx, 64, MAX_AUDIO_CTX)
  else
    check.that(
      o.audioCtx === 'auto' || o.audioCtx === 'full',
      `audioCtx must be 'auto', 'full' or 64 to ${MAX_AUDIO_CTX}`,
    )
  check.oneOf('finalWindow', o.finalWindow, FINAL_WINDOWS)
  check.integer('minFinalWindowMs', o.minFinalWindowMs, 0, 30_000)
  validateNoSpeechRule(o.noSpeech, 'WhisperCppBackend')
  return o
}

/**
 * Whisper through whisper.cpp, in this process: `@ws/whispercpp-addon` runs inference on
 * libuv's thread pool, so the event loop never blocks. One model is loaded and shared;
 * transcriptions run one at a time (each already uses every core), queued in order.
 * An abort rejects a queued transcription at once; a running one stops within one graph step
 * (whisper.cpp's abort callback) and rejects then, before the next one starts.
 */
export class WhisperCppBackend extends BackendBase<ReturnType<typeof validate>> {
  /** An abort stops a running call within one graph step; its promise settles once it has stopped. */
  readonly stopsRunningCalls = true
  /** Word timestamps carry each word's mean token probability. */
  readonly wordProbabilities = true
  readonly #queue = new SerialQueue()
  #model: WhisperModel | undefined
  #info: GgmlFileInfo | undefined
  #file: string | undefined

  constructor(options: WhisperCppOptions = {}) {
    super('whisper.cpp', validate(options), options.logger)
  }

  /** The ggml file in use, once loaded. */
  get modelFile(): string | undefined {
    return this.#file
  }

  get multilingual(): boolean | undefined {
    return this.#info ? this.#info.hparams.nVocab >= 51865 : undefined
  }

  protected get modelLoaded(): boolean {
    return this.#model !== undefined
  }

  protected async loadModelImpl(model: string): Promise<void> {
    const o = this.options
    const resolved = await resolveGgmlModel(model, modelSource(o))
    const { info } = resolved
    let loaded: WhisperModel
    try {
      const log = this.log
      // An aborted call makes whisper.cpp report "failed to encode/decode" (or "encoder_begin_callback
      // returned false - aborting"): the call's own rejection says what happened, so those lines
      // are not errors of the service.
      await setWhisperLogger((level, line) =>
        level === 'error' && !ABORT_LINE.test(line) ? log.error(line) : log.debug(line),
      )
      loaded = await WhisperModel.load(resolved.file, {
        gpu: o.gpu,
        alignmentHeads: alignmentHeads(info.hparams),
      })
    } catch (err) {
      throw new WsError(
        'model_load_failed',
        `whisper.cpp could not load ${resolved.file}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    if (this.closed) {
      await loaded.free()
      throw new WsError('closed', 'The backend is closed')
    }
    const previous = this.#model
    this.#model = loaded
    this.#info = info
    this.#file = resolved.file
    this.log.info({ file: resolved.file, source: resolved.source }, 'whisper.cpp model loaded')
    if (previous) await this.#queue.enqueue(() => previous.free())
  }

  protected transcribeImpl(audio: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    return this.#queue.enqueue(() => this.#run(audio, options), options.signal)
  }

  protected async closeImpl(): Promise<void> {
    await this.#queue.close()
    const model = this.#model
    this.#model = undefined
    await model?.free()
  }

  async #run(input: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    const model = this.#model
    if (!model) throw new WsError('closed', 'The backend is closed')
    const o = this.options
    const seconds = input.length / 16_000
    const audio = paddedToMinimum(input)
    const words = options.wordTimestamps ?? false
    // Nobody waits in real time for a call that is neither a preview nor live: full window.
    const { audioCtx, half } = encoderWindow({
      audioCtx: o.audioCtx,
      finalWindow: o.finalWindow,
      minFinalWindowMs: o.minFinalWindowMs,
      samples: audio.length,
      preview: options.preview,
      live: options.live,
      busy: options.busy,
    })
    const started = performance.now()
    let decoded = await this.#decode(model, audio, options, audioCtx, words, seconds)
    const text = () => decoded.segments.map((s) => s.text).join(' ')
    const reduced = isReduced(audioCtx)
    // A reduced encoder window sometimes makes whisper.cpp loop: mostly, a prompted decode
    // says its sentence again and again in the silence after the speech. What it heard before
    // the loop is kept: a preview's in any case (soon replaced), a final's when the loop is a
    // phrase of five or more words from the start (the sentence said again). Seventy
    // sentences of two voices, each prompted with the previous result, greedy: 18.6 % WER
    // with every loop decoded again on the full window, 18.8 % so, p95 642 → 214 ms (beam 5:
    // 15.2 → 15.5 %, 844 → 389 ms). whisper.cpp's temperature fallback found the sentence
    // too, but after 4–10 s of sampling; at a reduced window it is off and a token limit on.
    const loop = reduced ? findLoop(decoded.segments) : undefined
    if (loop && (options.preview || (loop.start === 0 && loop.ngram >= 5))) {
      decoded = { ...decoded, segments: firstWords(decoded.segments, loop.end) }
    }
    // A final that ends with a phrase said twice ("call forward on busy call forward on busy")
    // is decoded again too: on real telephone prompts a reduced window said short sentences
    // twice (what the widest window says is kept: people do repeat themselves).
    const doubled = () => doubledTail(text().split(/\s+/)) !== undefined
    if (!options.preview && reduced && (degenerateText(text(), seconds) || doubled())) {
      // Anything else degenerate (core's `degenerateText`, the rule faster-whisper's backend
      // uses) is decoded again on a wider window, then on the full one, which mostly do not
      // loop. The eight finals that looped in a ten-minute stream of two voices (1.2–5 s,
      // prompted) all decoded well 256 positions wider, in 160–310 ms, where the full window
      // took 590–1000 ms: a final's latency (the stream's slowest, 1.2–1.6 s, were these).
      const wider = audioCtx + RETRY_CTX_MARGIN
      for (const retryCtx of wider < MAX_AUDIO_CTX ? [wider, 0] : [0]) {
        this.log.debug({ text: text(), audioCtx: retryCtx }, 'repetition; decoding on a wider window')
        decoded = await this.#decode(model, audio, options, retryCtx, words, seconds)
        if (!degenerateText(text(), seconds) && !doubled()) break
      }
    }
    // A final the model was unsure of goes again to the full window, without the prompt
    // (see `UNSURE_FINAL`): what it made up over noise is then dropped by the no-speech rule.
    // Measured on transcription only: a translation's scores differ (real Spanish streams
    // translated by base read 58.5 % against 52.3 % offline with it).
    const prompt = options.initialPrompt ?? ''
    const transcribing = options.task !== 'translate' && options.live && !options.preview
    if (transcribing && (decoded.audioCtx !== 0 || prompt)) {
      if (unsureFinal(decoded.raw, half && decoded.audioCtx !== 0, prompt)) {
        this.log.debug(
          { text: text(), audioCtx },
          'unsure final; decoding on the full window without the prompt',
        )
        decoded = await this.#decode(model, audio, { ...options, initialPrompt: '' }, 0, words, seconds)
      }
    }
    const { segments, language } = decoded
    this.log.debug(
      { seconds, preview: options.preview ?? false, audioCtx, ms: Math.round(performance.now() - started) },
      'transcribed',
    )
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
  ): Promise<Decoded> {
    const o = this.options
    // A preview is decoded greedily: several times faster, and a later call replaces it.
    const beamSize = options.preview ? 1 : (options.beamSize ?? o.beamSize)
    // The temperature fallback runs only on the full window: at a reduced one, a loop is
    // decoded again on a wider window instead (see #run), and a token limit that no speech
    // reaches stops it early (a loop would otherwise run to the 224-token limit: 1.9 s for
    // 1 s of audio, measured).
    const reduced = isReduced(audioCtx)
    // A preview its final replaces (no word times asked) goes unprompted: prompted, a reduced
    // window loops far more often (56 previews replayed: 11 looped prompted, 2 without; 142 →
    // 121 ms each). `agreement` commits words from its previews and keeps their prompt.
    const prompt = options.preview && !words ? '' : (options.initialPrompt ?? '')
    let segments: AddonSegment[]
    let language: string
    try {
      const result = await model.transcribe(audio, {
        language: options.language ?? (this.multilingual ? 'auto' : 'en'),
        translate: options.task === 'translate',
        initialPrompt: prompt,
        threads: Math.min(
          o.threads,
          options.preview ? o.previewThreads : options.background ? o.backgroundThreads : o.threads,
        ),
        beamSize,
        bestOf: options.preview ? 1 : 5,
        temperature: 0,
        temperatureInc: reduced || options.preview ? 0 : 0.2,
        audioCtx: reduced ? audioCtx : 0,
        // whisper.cpp drops a segment it rates as no speech; at a reduced window that rating
        // misfires on speech (fifty sentences: 32.5 % WER with it, 17.9 % without). The VAD
        // decides what is speech.
        noSpeechThreshold: 1,
        // Suppress non-speech tokens ("(", "[", "♪"…), as OpenAI's Whisper and faster-whisper do
        // by default: without it, a prompted reduced-window decode could start with "(" and
        // end in "(Music plays)" (the hybrid strategy's finals: 65 % WER on six sentences).
        suppressNonSpeech: true,
        // The temperature fallback samples; at whisper.cpp's thresholds it fired on ordinary
        // speech at a reduced window and did harm (fifty sentences, beam 5: 26.2 % WER at
        // entropy 2.4 / log-probability -1, 17.9 % at 2.8 / -2, 17.9 % with no fallback).
        // On the full window it stays for what it is for: repetitive or very unlikely text.
        entropyThreshold: 2.8,
        logprobThreshold: -2,
        tokens: words,
        maxTokens: reduced ? Math.ceil(seconds * MAX_TOKENS_PER_SECOND) + 8 : 0,
        signal: options.signal,
      })
      segments = result.segments
      language = result.language
    } catch (err) {
      if (err instanceof WhisperAddonError && err.code === 'aborted' && options.signal?.aborted) {
        throw abortError(options.signal, 'transcription')
      }
      throw new WsError('backend_failed', `whisper.cpp failed: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      })
    }
    const clamp = (t: number) => Math.max(0, Math.min(seconds, t / 1000))
    const out: Segment[] = []
    for (const r of withoutNonSpeech(
      segments,
      noSpeechRuleAt(o.noSpeech, reduced, options.preview),
      prompt,
    )) {
      const text = r.text.trim()
      if (!text) continue
      const segment: Segment = { start: clamp(r.startMs), end: clamp(r.endMs), text }
      if (words) segment.words = wordsFromTokens(r.tokens ?? [], clamp, segment)
      out.push(segment)
    }
    return { segments: out, language: options.language ?? language, audioCtx, raw: segments }
  }
}
