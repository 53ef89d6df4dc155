import { withDefaults } from '../options.js'
import { normalizeWord } from './normalize.js'

export interface RepetitionOptions {
  /** Longest n-gram checked, in words (default 6). */
  maxNgram?: number
  /** Consecutive occurrences of a 2+-word n-gram that make a loop (default 3). */
  minRepeats?: number
  /** Consecutive occurrences of one word that make a loop (default 4: "no, no, no" is speech). */
  minSingleWordRepeats?: number
}

export const DEFAULT_REPETITION_OPTIONS: Required<RepetitionOptions> = {
  maxNgram: 6,
  minRepeats: 3,
  minSingleWordRepeats: 4,
}

export interface RepetitionRun {
  /** Index of the first word of the first occurrence. */
  start: number
  /** Words in the repeated n-gram. */
  ngram: number
  /** Consecutive occurrences. */
  repeats: number
}

/**
 * Finds the earliest run of an n-gram repeated back to back, the signature of Whisper's
 * decoding loops ("thank you. thank you. thank you."). Words are compared normalised.
 */
export function findRepetitionRun(
  words: readonly string[],
  options: RepetitionOptions = {},
): RepetitionRun | undefined {
  const { maxNgram, minRepeats, minSingleWordRepeats } = withDefaults(DEFAULT_REPETITION_OPTIONS, options)
  const norm = words.map(normalizeWord)
  for (let start = 0; start < norm.length; start++) {
    for (let n = 1; n <= maxNgram; n++) {
      const need = n === 1 ? minSingleWordRepeats : minRepeats
      if (start + n * need > norm.length) break
      let repeats = 1
      while (start + (repeats + 1) * n <= norm.length) {
        let same = true
        for (let k = 0; k < n; k++) {
          if (norm[start + k] !== norm[start + repeats * n + k]) {
            same = false
            break
          }
        }
        if (!same) break
        repeats++
      }
      if (repeats >= need) return { start, ngram: n, repeats }
    }
  }
  return undefined
}

/**
 * The number of leading words that are free of a loop: up to and including the first
 * occurrence of a repeated run, or all of them.
 */
export function loopFreeLength(words: readonly string[], options?: RepetitionOptions): number {
  const run = findRepetitionRun(words, options)
  return run ? run.start + run.ngram : words.length
}

/**
 * Where a text ends with a phrase of at least `minWords` words said twice back to back ("ten
 * of clubs ten of clubs", "call forward on busy call forward on busy"): the index of the
 * second occurrence's first word, or undefined. Twice is not a loop (people repeat
 * themselves), but at a reduced encoder window Whisper says a short sentence twice when it was
 * said once: a final that ends so is worth decoding again on a wider window.
 */
export function doubledTail(words: readonly string[], minWords = 3): number | undefined {
  const norm = words.map(normalizeWord)
  const len = norm.length
  for (let n = Math.floor(len / 2); n >= minWords; n--) {
    let same = true
    for (let k = 0; k < n; k++) {
      if (norm[len - 2 * n + k] !== norm[len - n + k]) {
        same = false
        break
      }
    }
    if (same) return len - n
  }
  return undefined
}
