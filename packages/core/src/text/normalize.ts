/**
 * Text normalisation for comparing transcripts: lower case, punctuation removed, runs of
 * space collapsed. Whisper's casing and punctuation vary between runs and models, so words are
 * compared in this form (for WER, and for LocalAgreement's "same word" test).
 */
export function normalizeWord(word: string): string {
  return word
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{N}']+/gu, '')
    .replace(/^'+|'+$/g, '')
}

/** Splits text into normalised words, dropping empty ones. */
export function normalizedWords(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split(/[\s\-–—/]+/)) {
    const w = normalizeWord(raw)
    if (w) out.push(w)
  }
  return out
}

/** Joins words with single spaces, tidying space before punctuation. */
export function joinWords(words: readonly string[]): string {
  return words
    .map((w) => w.trim())
    .filter(Boolean)
    .join(' ')
}
