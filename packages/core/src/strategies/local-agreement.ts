import { SampleBuffer } from '../audio/sample-buffer.js'
import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import { normalizeWord } from '../text/normalize.js'
import { loopFreeLength, type RepetitionOptions } from '../text/repetition.js'
import { tailText, wordsOf } from '../text/words.js'
import type { Segment, Word } from '../types.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/**
 * The LocalAgreement-n policy of "Turning Whisper into Real-Time Transcription System"
 * (Macháček et al., arXiv 2307.14743), as ufal/whisper_streaming implements it for n = 2,
 * generalised to any n, as a pure state machine: it says what to transcribe
 * ({@link LocalAgreement.request}) and digests what the model said
 * ({@link LocalAgreement.accept}); the caller runs the model.
 *
 * - The audio buffer grows with {@link LocalAgreement.insertAudio} and is re-transcribed.
 * - Words of a new hypothesis that start before the last committed time − 0.1 s are dropped,
 *   and a 1–5-word n-gram at its head that repeats the committed tail is removed.
 * - The longest common word prefix of the last n hypotheses is committed; committed words
 *   never change.
 * - The prompt is up to 200 characters of committed text that has left the buffer (after a
 *   `contextText` from before, such as the previous utterance).
 * - Once the buffer is longer than `trimAfterSeconds`, it is cut at the end of the last
 *   segment that ends inside the committed text; past `hardLimitSeconds` it is cut at the
 *   last committed word no matter what (committing the current hypothesis first if nothing
 *   is committed), so a request never exceeds Whisper's 30 s window.
 * - Guard against the policy's known failure, a decoding loop that gets committed and then
 *   fed back as the prompt, which makes the loop permanent: a hypothesis is cut after the
 *   first occurrence of a back-to-back repeated n-gram, so the repeats are never committed,
 *   and the prompt never ends in such a run either.
 */

export interface LocalAgreementOptions {
  /** Hypotheses that must agree (default 2). */
  n?: number
  sampleRate?: number
  /** Trim the buffer at a committed segment end once it is longer than this (default 15). */
  trimAfterSeconds?: number
  /** Never let the buffer exceed this (default 30, Whisper's window). */
  hardLimitSeconds?: number
  /** Prompt length bound, in characters (default 200). */
  maxPromptChars?: number
  /** New words starting before the last committed time minus this are dropped (default 0.1). */
  overlapToleranceSeconds?: number
  /** Longest n-gram removed at the head of a hypothesis when it repeats the committed tail (default 5). */
  maxDuplicateNgram?: number
  /**
   * The least new audio between two steps, for the caller that runs them (default 1000, as
   * whisper_streaming's `--min-chunk-size`): hypotheses of buffers only 500 ms apart often
   * agree on a word cut at the end of the shorter one, or on a word both left out.
   */
  minChunkMs?: number
  repetition?: RepetitionOptions
}

export const DEFAULT_LOCAL_AGREEMENT_OPTIONS = {
  n: 2,
  sampleRate: WHISPER_SAMPLE_RATE,
  trimAfterSeconds: 15,
  hardLimitSeconds: 30,
  maxPromptChars: 200,
  overlapToleranceSeconds: 0.1,
  maxDuplicateNgram: 5,
  minChunkMs: 1000,
} as const

export interface AgreementRequest {
  /**
   * The buffer to transcribe: a view, not a copy. It keeps its samples until the next
   * `accept`, `finish` or `reset` (which may cut the buffer); `insertAudio` only appends.
   */
  audio: Float32Array
  /** The prompt to pass as `initialPrompt` (may be empty). */
  initialPrompt: string
  /** Absolute time of `audio[0]`, in seconds. */
  offsetSeconds: number
}

export interface AgreementUpdate {
  /** Words committed by this step (absolute times). */
  committed: Word[]
  /** The current hypothesis past the committed words. */
  tentative: Word[]
  /** A decoding loop was found in this hypothesis and kept out. */
  loopDetected: boolean
}

function validate(options: LocalAgreementOptions) {
  const o = withDefaults(DEFAULT_LOCAL_AGREEMENT_OPTIONS, options)
  const bad = (msg: string) => {
    throw new WsError('invalid_config', `LocalAgreement: ${msg}`)
  }
  if (!Number.isInteger(o.n) || o.n < 2 || o.n > 10) bad(`n must be an integer from 2 to 10, got ${o.n}`)
  if (!(o.trimAfterSeconds > 0)) bad('trimAfterSeconds must be positive')
  if (!(o.hardLimitSeconds >= o.trimAfterSeconds)) bad('hardLimitSeconds must be at least trimAfterSeconds')
  if (!(o.maxPromptChars >= 0)) bad('maxPromptChars must be >= 0')
  if (!(o.minChunkMs >= 0)) bad('minChunkMs must be >= 0')
  if (!(o.sampleRate > 0)) bad('sampleRate must be positive')
  return o
}

const same = (a: Word, b: Word) => normalizeWord(a.text) === normalizeWord(b.text)

export class LocalAgreement {
  readonly options: ReturnType<typeof validate>
  readonly #audio = new SampleBuffer()
  #offset = 0 // seconds, absolute time of #audio[0]
  #committed: Word[] = [] // all committed words
  #committedInBuffer: Word[] = [] // committed words still inside the buffer
  #history: Word[][] = [] // the last n-1 hypotheses, past the committed words
  #lastCommittedTime = 0
  #contextText = ''

  constructor(options: LocalAgreementOptions = {}) {
    this.options = validate(options)
  }

  /** Text that came before this stream (e.g. the previous utterance), used as prompt. */
  setContextText(text: string): void {
    this.#contextText = text
  }

  /** Appends audio to the buffer. */
  insertAudio(samples: Float32Array): void {
    this.#audio.append(samples)
  }

  get bufferSeconds(): number {
    return this.#audio.length / this.options.sampleRate
  }

  get bufferOffsetSeconds(): number {
    return this.#offset
  }

  get committed(): readonly Word[] {
    return this.#committed
  }

  /** The latest hypothesis past the committed words. */
  get tentative(): readonly Word[] {
    return this.#history[this.#history.length - 1] ?? []
  }

  /** What to transcribe now. */
  request(): AgreementRequest {
    return {
      audio: this.#audio.view(),
      initialPrompt: this.prompt(),
      offsetSeconds: this.#offset,
    }
  }

  /** The prompt: committed text that has left the buffer, loop-free, at most `maxPromptChars`. */
  prompt(): string {
    const outside = this.#committed.filter((w) => w.end <= this.#offset)
    const words = [...this.#contextText.split(/\s+/).filter(Boolean), ...outside.map((w) => w.text)]
    // The prompt never carries a loop: keep only what comes before the first repeated run.
    const clean = words.slice(0, loopFreeLength(words, this.options.repetition))
    return tailText(clean.join(' '), this.options.maxPromptChars)
  }

  /**
   * Digests the model's transcript of a {@link request}'s audio (times relative to that
   * audio) and returns what got committed.
   */
  accept(segments: readonly Segment[], request: Pick<AgreementRequest, 'offsetSeconds'>): AgreementUpdate {
    const o = this.options
    let words = wordsOf(segments).map((w) => ({
      ...w,
      start: w.start + request.offsetSeconds,
      end: w.end + request.offsetSeconds,
    }))
    // Drop what the committed text already covers.
    words = words.filter((w) => w.start > this.#lastCommittedTime - o.overlapToleranceSeconds)
    const first = words[0]
    if (first && Math.abs(first.start - this.#lastCommittedTime) < 1 && this.#committedInBuffer.length > 0) {
      const cn = this.#committedInBuffer.length
      const limit = Math.min(cn, words.length, o.maxDuplicateNgram)
      for (let i = 1; i <= limit; i++) {
        const tail = this.#committedInBuffer.slice(cn - i)
        if (tail.every((w, k) => same(w, words[k]!))) {
          words = words.slice(i)
          break
        }
      }
    }
    // Keep a decoding loop out of the commit and the prompt.
    const free = loopFreeLength(
      words.map((w) => w.text),
      o.repetition,
    )
    const loopDetected = free < words.length
    words = words.slice(0, free)

    // Longest common prefix with the previous n-1 hypotheses.
    let commitCount = 0
    if (this.#history.length >= o.n - 1) {
      const others = this.#history.slice(-(o.n - 1))
      while (
        commitCount < words.length &&
        others.every((h) => h[commitCount] && same(h[commitCount]!, words[commitCount]!))
      ) {
        commitCount++
      }
    }
    const committed = words.slice(0, commitCount)
    this.#commit(committed)
    const tentative = words.slice(commitCount)
    this.#history = [...this.#history.map((h) => h.slice(commitCount)), tentative].slice(-(o.n - 1))

    // A buffer past the hard limit with nothing agreed commits the hypothesis as it is: that
    // is committed by this step too.
    const forced = this.#trim(segments, request.offsetSeconds, committed.length > 0)
    if (forced.length === 0) return { committed, tentative, loopDetected }
    return { committed: [...committed, ...forced], tentative: [...this.tentative], loopDetected }
  }

  /**
   * Ends the stream: returns the unconfirmed tail of the latest hypothesis (not committed by
   * agreement, but the best there is) and clears the buffer, keeping the committed text.
   */
  finish(): Word[] {
    const tail = [...this.tentative]
    this.#commit(tail)
    this.#offset += this.#audio.length / this.options.sampleRate
    this.#audio.clear()
    this.#committedInBuffer = []
    this.#history = []
    return tail
  }

  /** Forgets everything (audio, committed text, context). */
  reset(): void {
    this.#audio.clear()
    this.#offset = 0
    this.#committed = []
    this.#committedInBuffer = []
    this.#history = []
    this.#lastCommittedTime = 0
    this.#contextText = ''
  }

  #commit(words: readonly Word[]): void {
    if (words.length === 0) return
    this.#committed.push(...words)
    this.#committedInBuffer.push(...words)
    this.#lastCommittedTime = words[words.length - 1]!.end
  }

  /** Cuts the buffer; returns the words it had to commit to do so (none, mostly). */
  #trim(segments: readonly Segment[], requestOffset: number, committedNow: boolean): Word[] {
    const o = this.options
    const length = this.bufferSeconds
    if (committedNow && length > o.trimAfterSeconds && this.#committed.length > 0) {
      // The end of the last segment that ends inside the committed text, but not the last segment.
      const t = this.#lastCommittedTime
      const ends = segments.slice(0, -1).map((s) => s.end + requestOffset)
      const cut = ends.filter((e) => e <= t && e > this.#offset).pop()
      if (cut !== undefined) this.#cutAt(cut)
    }
    let forced: Word[] = []
    if (this.bufferSeconds > o.hardLimitSeconds) {
      if (this.#lastCommittedTime <= this.#offset) {
        // Nothing committed inside the buffer: take the current hypothesis as it is.
        forced = [...this.tentative]
        this.#commit(forced)
        this.#history = []
      }
      const cut =
        this.#lastCommittedTime > this.#offset
          ? this.#lastCommittedTime
          : this.#offset + this.bufferSeconds - (o.hardLimitSeconds - o.trimAfterSeconds)
      this.#cutAt(cut)
    }
    return forced
  }

  #cutAt(time: number): void {
    const samples = Math.min(
      this.#audio.length,
      Math.max(0, Math.round((time - this.#offset) * this.options.sampleRate)),
    )
    this.#committedInBuffer = this.#committedInBuffer.filter((w) => w.end > time)
    this.#audio.dropFront(samples)
    this.#offset += samples / this.options.sampleRate
  }
}
