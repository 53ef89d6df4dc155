import { withDefaults } from '../options.js'
import { findRepetitionRun } from './repetition.js'

/** Why a transcript looks like a decoding failure rather than speech. */
export type DegenerateReason = 'repetition' | 'too_long'

export interface DegenerateTextOptions {
  /**
   * Words one second of audio can hold, at most (default 7: fast speech is about four).
   * Text longer than that, and than `minWordsForLength`, was not all heard in the audio.
   */
  maxWordsPerSecond?: number
  /** Below this many words, length alone never condemns a text (default 10). */
  minWordsForLength?: number
}

export const DEFAULT_DEGENERATE_TEXT_OPTIONS: Required<DegenerateTextOptions> = {
  maxWordsPerSecond: 7,
  minWordsForLength: 10,
}

/**
 * Whether a transcript of `audioSeconds` of audio is one of Whisper's failure modes: a
 * decoding loop (one word five times or more in a row — "n n n n n"; a phrase of two to four
 * words three times; a phrase of five words or more twice — a sentence said again; a unit of
 * up to four characters ten times, as in "R-R-R-R-…"), or more words or characters than the
 * audio could hold. Ordinary repetition in speech ("no, no, no", "very very")
 * passes. Returns the reason, or undefined for a plausible transcript.
 */
export function degenerateText(
  text: string,
  audioSeconds: number,
  options: DegenerateTextOptions = {},
): DegenerateReason | undefined {
  const o = withDefaults(DEFAULT_DEGENERATE_TEXT_OPTIONS, options)
  // A unit of one to four characters ten times in a row, spaces or not: "R-R-R-R-…".
  if (TOKEN_RUN.test(text)) return 'repetition'
  let words = text.split(/\s+/).filter(Boolean)
  const all = words
  for (;;) {
    const run = findRepetitionRun(words, { maxNgram: 24, minRepeats: 2, minSingleWordRepeats: 5 })
    if (!run) break
    if (run.ngram === 1 || run.ngram >= 5 || run.repeats >= 3) return 'repetition'
    words = words.slice(run.start + 1)
  }
  const tooManyWords = all.length >= o.minWordsForLength && all.length > o.maxWordsPerSecond * audioSeconds
  const tooManyChars = text.length >= 60 && text.length > MAX_CHARS_PER_SECOND * audioSeconds
  return tooManyWords || tooManyChars ? 'too_long' : undefined
}

const TOKEN_RUN = /(\S{1,4}?)\1{9,}/
/** Characters a second of speech never exceeds (about fifteen is usual). */
const MAX_CHARS_PER_SECOND = 40
