import { textOfWords, wordsOf } from '../text/words.js'
import type { Segment, Word } from '../types.js'

/**
 * Removes the transcript of prepended context audio and shifts times back to the new
 * audio. A segment that ends inside the context is dropped; one that starts after it is
 * kept whole; one that straddles its end keeps exactly the words whose middle lies after it
 * (the backend's word timestamps, or an even split of the segment's time when it has none).
 * Times come out relative to the end of the context, never below 0.
 */
export function dropContext(segments: readonly Segment[], contextSeconds: number): Segment[] {
  if (contextSeconds <= 0) return segments.map((s) => ({ ...s }))
  const out: Segment[] = []
  const shiftWord = (w: Word): Word => ({
    ...w,
    start: Math.max(0, w.start - contextSeconds),
    end: Math.max(0, w.end - contextSeconds),
  })
  for (const seg of segments) {
    if (seg.end <= contextSeconds) continue
    if (seg.start >= contextSeconds) {
      const shifted: Segment = { ...seg, start: seg.start - contextSeconds, end: seg.end - contextSeconds }
      if (seg.words) shifted.words = seg.words.map(shiftWord)
      out.push(shifted)
      continue
    }
    const estimated = !seg.words || seg.words.length === 0
    const kept = wordsOf([seg]).filter((w) => (w.start + w.end) / 2 >= contextSeconds)
    if (kept.length === 0) continue
    const words = kept.map(shiftWord)
    const trimmed: Segment = {
      start: words[0]!.start,
      end: Math.max(words[words.length - 1]!.end, seg.end - contextSeconds),
      text: textOfWords(words),
    }
    if (!estimated) trimmed.words = words
    out.push(trimmed)
  }
  return out
}
