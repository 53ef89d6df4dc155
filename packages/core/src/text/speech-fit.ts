import { optionChecker, withDefaults } from '../options.js'
import type { Segment, Word } from '../types.js'
import type { TimeRange } from '../vad/speech-regions.js'
import { textOfPiece } from './words.js'

/**
 * Words timed by the speech a VAD heard: Whisper's DTW times (its alignment heads) put a word
 * after a pause partly in the pause before it (a turn's first word starting 0.5–1 s before the
 * voice), and stretch a last word into the silence after it. A word that overlaps speech is
 * trimmed to it: its start moves to the first speech inside it, its end to the last; a word
 * in no speech at all is left as it is (the VAD missed it, or the model heard something), as
 * is every time of a segment without words. Times are seconds on the same clock as `speech`
 * (ordered, not overlapping, e.g. from {@link speechRegions}). New segments are returned.
 */
export function fitWordsToSpeech(segments: readonly Segment[], speech: readonly TimeRange[]): Segment[] {
  if (speech.length === 0) return segments.map((s) => ({ ...s }))
  return segments.map((s) =>
    s.words?.length ? { ...s, words: s.words.map((w) => fitWord(w, speech)) } : { ...s },
  )
}

function fitWord(word: Word, speech: readonly TimeRange[]): Word {
  let first: TimeRange | undefined
  let last: TimeRange | undefined
  for (const r of speech) {
    if (r.start >= word.end) break
    if (r.end <= word.start) continue
    first ??= r
    last = r
  }
  if (!first || !last) return { ...word }
  const start = Math.max(word.start, first.start)
  const end = Math.min(word.end, last.end)
  return { ...word, start, end: Math.max(end, start) }
}

export interface PauseSplitOptions {
  /** Words that pause this long or longer, in seconds, end one segment and start the next (default 1). */
  minPauseSeconds?: number
}

export const DEFAULT_PAUSE_SPLIT_OPTIONS = { minPauseSeconds: 1 } as const satisfies PauseSplitOptions

/**
 * Segments cut where their words pause: Whisper's segments run sentence to sentence, and one
 * can hold two sentences a second or more apart (two turns of one speaker, a pause to think),
 * so its time and a subtitle cue built from it would span the silence. Each piece keeps the
 * segment's other fields (its speaker), its text made of its words. A segment without words
 * is kept whole. New segments are returned; those given are not changed.
 */
export function splitAtPauses(segments: readonly Segment[], options?: PauseSplitOptions): Segment[] {
  const o = withDefaults(DEFAULT_PAUSE_SPLIT_OPTIONS, options)
  optionChecker('splitAtPauses').that(
    Number.isFinite(o.minPauseSeconds) && o.minPauseSeconds > 0,
    `minPauseSeconds must be above 0, got ${String(o.minPauseSeconds)}`,
  )
  const out: Segment[] = []
  for (const segment of segments) {
    const pieces: Word[][] = []
    let lastEnd = 0
    for (const w of segment.words ?? []) {
      const piece = pieces.at(-1)
      if (piece && w.start - lastEnd < o.minPauseSeconds) {
        piece.push(w)
        lastEnd = Math.max(lastEnd, w.end)
      } else {
        pieces.push([w])
        lastEnd = w.end
      }
    }
    if (pieces.length <= 1) {
      out.push({ ...segment })
      continue
    }
    for (const piece of pieces)
      out.push({
        ...segment,
        start: (piece[0] as Word).start,
        end: Math.max(...piece.map((w) => w.end)),
        text: textOfPiece(segment, piece),
        words: piece,
      })
  }
  return out
}
