// Accuracy and latency of a streamed transcript against the corpus: WER, per-utterance partial
// and final metrics, the transcript after revisions.
import { corpusWordErrorRate, normalizedWords } from '@ws/core'

export const wer = (reference, hypothesis) => corpusWordErrorRate([{ reference, hypothesis }])

/**
 * Whether the final that covers sentence k covers the next one too: the VAD heard no end of
 * speech in the pause between them (0.3 s, with the fixtures' own silence), so the final came
 * after the next sentence, and its latency counts from there, not from sentence k's end.
 */
export function joinedToNext(c, k, start, end) {
  const next = c.utterances[k + 1]
  return next !== undefined && start <= next.end && end >= next.end - 0.05
}

/** Partial/final metrics of one utterance from its events (times in seconds of audio or wall). */
export function utteranceMetrics(events, u, finalText, key, refEnds = []) {
  const finalWords = normalizedWords(finalText)
  const partials = events.filter((e) => e.type === 'partial')
  const n = finalWords.length
  const span = u.end - u.start
  // The i-th final word ends where the reference's proportional i-th word ends (the same
  // index when the counts agree); an even split of the sentence without a reference.
  const m = refEnds.length
  const wordEnd = (i) =>
    m > 0
      ? refEnds[Math.min(m - 1, Math.round((i * (m - 1)) / Math.max(1, n - 1)))]
      : u.start + ((i + 1) / Math.max(1, n)) * span
  const emission = []
  const commit = []
  const seen = new Array(n).fill(false)
  const committed = new Array(n).fill(false)
  let revisions = 0
  let partialWords = 0
  let previous = []
  for (const p of partials) {
    const words = normalizedWords(p[key.text])
    const stable = normalizedWords(p[key.stable] ?? '')
    partialWords += words.length
    let common = 0
    while (common < previous.length && common < words.length && previous[common] === words[common]) common++
    revisions += previous.length - common
    previous = words
    for (let i = 0; i < Math.min(n, words.length); i++) {
      if (!seen[i] && words[i] === finalWords[i]) {
        seen[i] = true
        emission.push(p.at - wordEnd(i))
      }
      if (!committed[i] && i < stable.length && stable[i] === finalWords[i]) {
        committed[i] = true
        commit.push(p.at - wordEnd(i))
      }
    }
  }
  return {
    firstPartial: partials.length > 0 ? partials[0].at - u.start : null,
    emission,
    commit,
    revisions,
    partialWords,
    committedText: partials.length > 0 ? (partials.at(-1)[key.stable] ?? '') : '',
  }
}

/** The transcript once each revision replaced the finals it names (session or wire events). */
export function revisedText(events) {
  const id = (e) => e.utteranceId ?? e.utterance_id
  const at = new Map()
  const covered = new Set()
  for (const r of events.filter((e) => e.type === 'revision')) {
    const ids = r.utteranceIds ?? r.utterance_ids
    at.set(ids[0], r.text)
    for (const x of ids) covered.add(x)
  }
  return events
    .filter((e) => e.type === 'final')
    .flatMap((f) => (at.has(id(f)) ? [at.get(id(f))] : covered.has(id(f)) ? [] : [f.text]))
    .join(' ')
}
