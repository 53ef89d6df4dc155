import type { WhisperBackend } from '../backend.js'
import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import {
  dropBareMarks,
  segmentsFromWords,
  textOfSegments,
  textOfWords,
  withoutWords,
  wordsOf,
} from '../text/words.js'
import type { Segment, Task, Word } from '../types.js'
import { WHISPER_SAMPLE_RATE, WHISPER_WINDOW_SECONDS } from '../types.js'
import { CarriedUtterances, withCarried } from './context.js'
import { LocalAgreement, type LocalAgreementOptions } from './local-agreement.js'
import { dropSqueezedTail } from './squeezed-tail.js'

/**
 * How consecutive utterances are stitched together, and how an utterance is transcribed
 * while it grows:
 * - `prompt`: the previous final's text is the initial prompt (its last `maxPromptChars`).
 * - `context`: a final hears the last utterances again (whole ones, up to `contextMs` of their
 *   audio) before its own audio, and their words are cut off again (`cutCarried`); a
 *   final that heard none of them is decoded again without.
 * - `hybrid`: both: the carried utterances, and the text before them as the prompt.
 * - `agreement`: LocalAgreement-n; partials commit words that will not change.
 *
 * Partials of `prompt`, `context` and `hybrid` are previews, decoded fast (`preview`), with the
 * prompt but without the context audio; the final uses everything. `agreement`'s partials are
 * steps of its policy whose agreed words are committed, never to change: each step is decoded
 * as a final is (`live`; `busy` when the engine is contended), since a word committed from a
 * reduced window's hearing could not be corrected by the final.
 */
export const STRATEGY_NAMES = ['prompt', 'context', 'hybrid', 'agreement'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && (STRATEGY_NAMES as readonly string[]).includes(value)
}

export interface StrategyOptions {
  backend: WhisperBackend
  language?: string
  task?: Task
  /** Include word timestamps in results (default false). */
  wordTimestamps?: boolean
  /**
   * Audio of the last utterances (whole ones) a final of `context` and `hybrid` hears again
   * before its own: at most this much, and what fits beside it in Whisper's window (default
   * 10000; 0 is none).
   */
  contextMs?: number
  /** Bound on the prompt carried from one utterance to the next (default 200 characters). */
  maxPromptChars?: number
  /** Options of the LocalAgreement policy (`agreement`). */
  agreement?: LocalAgreementOptions
}

export const DEFAULT_STRATEGY_OPTIONS = {
  wordTimestamps: false,
  contextMs: 10_000,
  maxPromptChars: 200,
} as const

type Resolved = StrategyOptions &
  Required<Pick<StrategyOptions, 'wordTimestamps' | 'contextMs' | 'maxPromptChars'>>

/** A transcript of an utterance so far; times are seconds from the utterance's start. */
export interface UtteranceTranscript {
  text: string
  /** Text that will not change any more (committed); empty for strategies without commits. */
  stable: string
  /** The rest of the text, which may still change. */
  unstable: string
  segments: Segment[]
  language: string
  /** Time the backend spent on this step, in milliseconds. */
  processingTimeMs: number
}

/** A final transcript computed ahead of time; `commit()` makes it the utterance's final. */
export interface SpeculativeFinal {
  transcript: UtteranceTranscript
  commit(): void
}

/** How a final (or a partial of `agreement`, which commits words) is asked for. */
export interface FinalOptions {
  /** The engine is contended (see `TranscribeOptions.busy`): passed on to the backend. */
  busy?: boolean
  /**
   * The final keeps its words (times and probabilities) even without `wordTimestamps`: a
   * session that revises weighs them against the revision's.
   */
  words?: boolean
}

/** Transcribes one utterance; `audio` is always the whole utterance so far. */
export interface UtteranceTranscriber {
  /** A transcript so far; `options.busy`: the engine is contended (used by `agreement`). */
  partial(audio: Float32Array, signal?: AbortSignal, options?: FinalOptions): Promise<UtteranceTranscript>
  final(audio: Float32Array, signal?: AbortSignal, options?: FinalOptions): Promise<UtteranceTranscript>
  /**
   * The final for `audio` without committing it (no state carried to the next utterance
   * until `commit()`), for a session that expects the utterance to end here. Strategies that
   * cannot do this leave it out.
   */
  speculate?(audio: Float32Array, signal?: AbortSignal, options?: FinalOptions): Promise<SpeculativeFinal>
}

export interface Strategy {
  readonly name: StrategyName
  /** The least new audio between two partials, after the first, this strategy can use (default none). */
  readonly minPartialIntervalMs?: number
  /** A transcriber for the next utterance. Utterances must be finalised in order. */
  utterance(): UtteranceTranscriber
  /** Forgets what was carried between utterances. */
  reset(): void
  /**
   * Keeps `language` for the utterances after this one (a session asked for `auto` once it
   * detected it). Strategies without it detect the language on every call.
   */
  setLanguage?(language: string): void
}

/** A final at least this long (1 s) that decodes empty with a prompt or context is decoded again without. */
const MIN_RETRY_SAMPLES = WHISPER_SAMPLE_RATE

/** A final's call is `live` (and `busy` when the engine is contended); a partial's a preview. */
function liveOrPreview(final: FinalOptions | undefined): { live?: true; busy?: true; preview?: true } {
  if (!final) return { preview: true }
  return final.busy ? { live: true, busy: true } : { live: true }
}

/** Room left in Whisper's window beside an utterance for carried audio. */
const WINDOW_SAMPLES = (WHISPER_WINDOW_SECONDS - 1) * WHISPER_SAMPLE_RATE

const contextSamples = (o: Resolved) => Math.round((o.contextMs * WHISPER_SAMPLE_RATE) / 1000)

class BoundaryStrategy implements Strategy {
  readonly name: Exclude<StrategyName, 'agreement'>
  readonly #o: Resolved
  readonly #usePrompt: boolean
  readonly #useContext: boolean
  readonly #carried: CarriedUtterances
  #language: string | undefined

  constructor(name: Exclude<StrategyName, 'agreement'>, options: Resolved) {
    this.name = name
    this.#o = options
    this.#language = options.language
    this.#usePrompt = name !== 'context'
    this.#useContext = name !== 'prompt'
    this.#carried = new CarriedUtterances(contextSamples(options), options.maxPromptChars)
  }

  reset(): void {
    this.#carried.reset()
  }

  setLanguage(language: string): void {
    this.#language = language
  }

  /** One decode of `audio` after the last `carried` utterances' audio (cut off again), with `prompt`. */
  async #decode(
    audio: Float32Array,
    carried: number,
    prompt: string,
    final: FinalOptions | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ segments: Segment[]; heard: number; language: string; processingTimeMs: number }> {
    const o = this.#o
    const { input, cut } = withCarried(this.#carried.last(carried), audio, WHISPER_SAMPLE_RATE)
    const result = await o.backend.transcribe(input, WHISPER_SAMPLE_RATE, {
      ...(prompt ? { initialPrompt: prompt } : {}),
      ...(this.#language ? { language: this.#language } : {}),
      ...(o.task ? { task: o.task } : {}),
      wordTimestamps: o.wordTimestamps || !!final?.words,
      ...liveOrPreview(final),
      ...(signal ? { signal } : {}),
    })
    const kept = cut(dropBareMarks(result.segments))
    // A final's made-up tail ("Thank you.") goes; previews are replaced anyway.
    const segments = (final ? dropSqueezedTail(kept.segments) : kept.segments).filter((seg) =>
      seg.text.trim(),
    )
    return {
      segments,
      heard: kept.heard,
      language: result.language,
      processingTimeMs: result.processingTimeMs,
    }
  }

  utterance(): UtteranceTranscriber {
    const run = async (
      audio: Float32Array,
      signal: AbortSignal | undefined,
      final: FinalOptions | undefined,
    ): Promise<SpeculativeFinal> => {
      const o = this.#o
      // Partials are previews: fast, on the new audio alone (with the prompt).
      const carried = this.#useContext && final ? this.#carried.fitting(WINDOW_SAMPLES - audio.length) : 0
      // `hybrid`'s prompt is the text before the carried audio (with the carried text in it too,
      // a decode skips the audio that says it); `prompt`'s the last final: the finals before
      // joined read 5 errors instead of 7 on the real English streams on whisper.cpp, but 8
      // instead of 6 on faster-whisper, and worse on Dutch and translated Spanish (base).
      const prompt = !this.#usePrompt
        ? ''
        : this.#useContext
          ? this.#carried.textBefore(carried)
          : this.#carried.lastText()
      let result = await this.#decode(audio, carried, prompt, final, signal)
      let processingTimeMs = result.processingTimeMs
      // Decoded again on its own audio, whose answer is taken unless it is empty, a final:
      // - one of speech that came back empty with what was carried (Whisper sometimes answers
      //   a prompt or carried audio with no text);
      // - one that heard none of the carried audio's words: it skipped the start of its
      //   audio, and at times the first new words with it.
      const answered = result.segments.length > 0
      const empty = !answered && audio.length >= MIN_RETRY_SAMPLES
      const skipped = answered && carried > 0 && result.heard === 0
      if (final && (carried > 0 || prompt) && (empty || skipped)) {
        const alone = await this.#decode(audio, 0, '', final, signal)
        processingTimeMs += alone.processingTimeMs
        if (alone.segments.length > 0 || !answered) result = alone
      }
      const segments = withoutWords(result.segments, o.wordTimestamps || !!final?.words)
      const text = textOfSegments(segments)
      const commit = () => this.#carried.remember(audio, text)
      const transcript = {
        text,
        stable: '',
        unstable: text,
        segments,
        language: result.language,
        processingTimeMs,
      }
      return { transcript, commit }
    }
    return {
      partial: async (audio, signal) => (await run(audio, signal, undefined)).transcript,
      final: async (audio, signal, options = {}) => {
        const final = await run(audio, signal, options)
        final.commit()
        return final.transcript
      },
      speculate: (audio, signal, options = {}) => run(audio, signal, options),
    }
  }
}

class AgreementStrategy implements Strategy {
  readonly name = 'agreement' as const
  readonly minPartialIntervalMs: number
  readonly #o: Resolved
  readonly #carried: CarriedUtterances
  #language: string | undefined

  constructor(options: Resolved) {
    this.#o = options
    this.#language = options.language
    this.#carried = new CarriedUtterances(contextSamples(options), options.maxPromptChars)
    // Validate the policy's options now rather than at the first utterance.
    this.minPartialIntervalMs = new LocalAgreement(options.agreement).options.minChunkMs
  }

  reset(): void {
    this.#carried.reset()
  }

  setLanguage(language: string): void {
    this.#language = language
  }

  utterance(): UtteranceTranscriber {
    const o = this.#o
    const asked = this.#language
    const policy = new LocalAgreement({ ...o.agreement, sampleRate: WHISPER_SAMPLE_RATE })
    policy.setContextText(this.#carried.textBefore())
    let inserted = 0 // utterance samples given to the policy
    let language = asked ?? ''
    let latest: Word[] = []

    const feed = (audio: Float32Array) => {
      if (audio.length > inserted) {
        policy.insertAudio(audio.subarray(inserted))
        inserted = audio.length
      }
    }
    // Every step is decoded as a final: the words two steps agree on are committed and never
    // change, so they get a final's window (with `finalWindow: 'auto'`, the full one unless the
    // engine is contended). On real telephone speech (tiny.en), steps decoded as previews (the
    // reduced window) gave finals of 3.5 % WER on whisper.cpp and 4.5 % on faster-whisper, where
    // offline read 1.7 and 2.1 %; as finals, 2.4–2.8 and 2.4 %. Only the last step drops a
    // made-up tail: an earlier step's tail is committed only if the next step says it again.
    // The utterance's first step is a preview (the reduced window), shown and not agreed on: it
    // shows text as soon as `prompt`'s first partial does (in real time on 2 AMD EPYC cores, a
    // first step decoded as a final came 1.35 s after speech started at p50, a preview 0.43 s),
    // and only steps decoded as finals commit (real English streams, virtual clock: whisper.cpp
    // 2.4 → 3.1 % WER, two words of 287, its later steps coming at other lengths; faster-whisper
    // 2.4 % either way).
    let shown = false
    const step = async (signal: AbortSignal | undefined, options: FinalOptions, last: boolean) => {
      const buffered = policy.request()
      if (buffered.audio.length === 0) return 0
      const preview = !shown && !last
      shown = true
      // A step decoded as a final hears the last utterances again first, as `context`'s final
      // does, while its buffer starts where the utterance does, and is prompted with the text
      // before them (not their own).
      const carried =
        !preview && buffered.offsetSeconds === 0
          ? this.#carried.fitting(WINDOW_SAMPLES - buffered.audio.length)
          : 0
      policy.setContextText(this.#carried.textBefore(carried))
      const request = policy.request()
      const { input, cut } = withCarried(this.#carried.last(carried), request.audio, WHISPER_SAMPLE_RATE)
      const result = await o.backend.transcribe(input, WHISPER_SAMPLE_RATE, {
        // A preview goes without the prompt, as other strategies' do (prompted, a reduced window
        // loops more often).
        ...(request.initialPrompt && !preview ? { initialPrompt: request.initialPrompt } : {}),
        ...(asked ? { language: asked } : {}),
        ...(o.task ? { task: o.task } : {}),
        wordTimestamps: true,
        ...liveOrPreview(preview ? undefined : options),
        ...(signal ? { signal } : {}),
      })
      const { segments } = cut(dropBareMarks(result.segments))
      language = result.language
      if (preview) {
        latest = wordsOf(dropSqueezedTail(segments))
        return result.processingTimeMs
      }
      const update = policy.accept(last ? dropSqueezedTail(segments) : segments, request)
      latest = update.tentative
      return result.processingTimeMs
    }
    const transcript = (
      words: readonly Word[],
      tentative: readonly Word[],
      processingTimeMs: number,
      keepWords = o.wordTimestamps,
    ) => {
      const segments = withoutWords(segmentsFromWords([...words, ...tentative]), keepWords)
      const stable = textOfWords(words)
      const unstable = textOfWords(tentative)
      return {
        text: [stable, unstable].filter(Boolean).join(' '),
        stable,
        unstable,
        segments,
        language,
        processingTimeMs,
      }
    }
    return {
      partial: async (audio, signal, options = {}) => {
        feed(audio)
        const ms = await step(signal, options, false)
        return transcript(policy.committed, latest, ms)
      },
      final: async (audio, signal, options = {}) => {
        feed(audio)
        // Every sample is heard: the audio since the last step, and the uncommitted words again.
        const ms = await step(signal, options, true)
        policy.finish()
        const words = [...policy.committed]
        const result = transcript(words, [], ms, o.wordTimestamps || !!options.words)
        this.#carried.remember(audio, result.text)
        return { ...result, stable: result.text, unstable: '' }
      },
    }
  }
}

/** Makes a strategy by name. */
export function createStrategy(name: StrategyName, options: StrategyOptions): Strategy {
  const o: Resolved = withDefaults(DEFAULT_STRATEGY_OPTIONS, options)
  if (!o.backend) throw new WsError('invalid_config', 'createStrategy needs a backend')
  if (!(o.contextMs >= 0 && o.contextMs <= 20_000)) {
    throw new WsError('invalid_config', `contextMs must be from 0 to 20000, got ${o.contextMs}`)
  }
  if (!(o.maxPromptChars >= 0)) throw new WsError('invalid_config', 'maxPromptChars must be >= 0')
  switch (name) {
    case 'prompt':
    case 'context':
    case 'hybrid':
      return new BoundaryStrategy(name, o)
    case 'agreement':
      return new AgreementStrategy(o)
    default:
      throw new WsError(
        'invalid_config',
        `Unknown strategy "${String(name)}"; use one of ${STRATEGY_NAMES.join(', ')}`,
      )
  }
}
