import { englishWords, removeDiacritics } from './english-normalizer.js'
import { normalizedWords } from './normalize.js'

export interface WerOptions {
  /**
   * The language of the text, a code such as `en` or `es` (default `en`). English text is
   * compared after {@link normalizeEnglish} (Whisper's English rules: `ten` = `10`,
   * `Mr.` = `mister`, `colour` = `color`, …); any other language on {@link normalizedWords}
   * (case and punctuation ignored, nothing else).
   */
  language?: string
  /**
   * Other languages only: drop diacritics too (`número` = `numero`), for references written
   * without them. English always drops them.
   */
  foldDiacritics?: boolean
}

/** Whether a language code names English: `en`, `en-US`, `eng`, `english` (and no code at all). */
export function isEnglishLanguage(language: string | undefined): boolean {
  return language === undefined || /^(en|eng|english)([-_].*)?$/i.test(language)
}

/** The words that WER compares, normalised for `options.language`. */
export function werWords(text: string, options: WerOptions = {}): string[] {
  if (isEnglishLanguage(options.language)) return englishWords(text)
  return normalizedWords(options.foldDiacritics ? removeDiacritics(text) : text)
}

export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words; 0 when both are empty. */
  wer: number
  substitutions: number
  deletions: number
  insertions: number
  referenceWords: number
  hypothesisWords: number
}

/**
 * Word error rate of `hypothesis` against `reference`, on normalised words (see
 * {@link WerOptions}: English rules unless `language` names another language), by
 * Levenshtein alignment.
 */
export function wordErrorRate(reference: string, hypothesis: string, options: WerOptions = {}): WerResult {
  const ref = werWords(reference, options)
  const hyp = werWords(hypothesis, options)
  const n = ref.length
  const m = hyp.length
  // cost[j] and the op counts for the current row
  type Cell = { cost: number; s: number; d: number; i: number }
  let prev: Cell[] = Array.from({ length: m + 1 }, (_, j) => ({ cost: j, s: 0, d: 0, i: j }))
  for (let r = 1; r <= n; r++) {
    const row: Cell[] = [{ cost: r, s: 0, d: r, i: 0 }]
    for (let j = 1; j <= m; j++) {
      const same = ref[r - 1] === hyp[j - 1]
      const diag = prev[j - 1]!
      const up = prev[j]!
      const left = row[j - 1]!
      const sub = { cost: diag.cost + (same ? 0 : 1), s: diag.s + (same ? 0 : 1), d: diag.d, i: diag.i }
      const del = { cost: up.cost + 1, s: up.s, d: up.d + 1, i: up.i }
      const ins = { cost: left.cost + 1, s: left.s, d: left.d, i: left.i + 1 }
      row.push(sub.cost <= del.cost && sub.cost <= ins.cost ? sub : del.cost <= ins.cost ? del : ins)
    }
    prev = row
  }
  const last = prev[m]!
  return {
    wer: n === 0 ? (m === 0 ? 0 : 1) : last.cost / n,
    substitutions: last.s,
    deletions: last.d,
    insertions: last.i,
    referenceWords: n,
    hypothesisWords: m,
  }
}

/** WER over several pairs, weighted by reference length (the usual corpus WER). */
export function corpusWordErrorRate(
  pairs: readonly { reference: string; hypothesis: string }[],
  options: WerOptions = {},
): number {
  let errors = 0
  let words = 0
  for (const { reference, hypothesis } of pairs) {
    const r = wordErrorRate(reference, hypothesis, options)
    errors += r.substitutions + r.deletions + r.insertions
    words += r.referenceWords
  }
  return words === 0 ? 0 : errors / words
}
