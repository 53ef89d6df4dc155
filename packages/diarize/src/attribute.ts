import { type Segment, textOfPiece, type Word } from '@ws/core'
import type { SpeakerTurn } from './diarize.js'

/** Who spoke from `start` to `end` (seconds), or undefined when nobody is known to. */
export type SpeakerOf = (start: number, end: number) => string | undefined

/**
 * The speaker of a span by turns: the one whose turns overlap it most; in a pause, the
 * nearest turn's (undefined only without turns).
 */
export function speakerByTurns(turns: readonly SpeakerTurn[]): SpeakerOf {
  return (start, end) => {
    const overlap = new Map<string, number>()
    let nearest: SpeakerTurn | undefined
    let nearestGap = Number.POSITIVE_INFINITY
    for (const t of turns) {
      const o = Math.min(end, t.end) - Math.max(start, t.start)
      if (o > 0) overlap.set(t.speaker, (overlap.get(t.speaker) ?? 0) + o)
      const gap = Math.max(t.start - end, start - t.end, 0)
      if (gap < nearestGap) {
        nearestGap = gap
        nearest = t
      }
    }
    let best: string | undefined
    let most = 0
    for (const [speaker, o] of overlap)
      if (o > most) {
        most = o
        best = speaker
      }
    return best ?? nearest?.speaker
  }
}

/**
 * Speakers on a transcript, as WhisperX's `assign_word_speakers` does: each word takes the
 * speaker of its time (`speakerOf`, e.g. {@link speakerByTurns}); a segment whose words change
 * speaker is split at those word boundaries, each piece's text made of its words; a segment
 * without words takes its span's speaker. The segments given are not changed.
 */
export function attributeSpeakers(segments: readonly Segment[], speakerOf: SpeakerOf): Segment[] {
  const out: Segment[] = []
  for (const segment of segments) {
    const words = segment.words ?? []
    if (words.length === 0) {
      const speaker = speakerOf(segment.start, segment.end)
      out.push(speaker === undefined ? { ...segment } : { ...segment, speaker })
      continue
    }
    const labelled: Word[] = words.map((w) => {
      const speaker = speakerOf(w.start, w.end)
      return speaker === undefined ? { ...w } : { ...w, speaker }
    })
    const pieces: Word[][] = []
    for (const w of labelled) {
      const last = pieces.at(-1)
      if (last && last[0]?.speaker === w.speaker) last.push(w)
      else pieces.push([w])
    }
    if (pieces.length === 1) {
      const speaker = labelled[0]?.speaker
      out.push({ ...segment, words: labelled, ...(speaker === undefined ? {} : { speaker }) })
      continue
    }
    for (const piece of pieces) {
      const first = piece[0] as Word
      const last = piece.at(-1) as Word
      out.push({
        start: first.start,
        end: last.end,
        text: textOfPiece(segment, piece),
        words: piece,
        ...(first.speaker === undefined ? {} : { speaker: first.speaker }),
      })
    }
  }
  return out
}
