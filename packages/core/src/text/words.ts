import type { Segment, Word } from '../types.js'

/**
 * The words of a transcript with times. Uses the backend's word timestamps when present;
 * otherwise splits each segment's text on spaces and spreads the segment's time over its
 * words in proportion to their length (an estimate, good enough to cut buffers at).
 */
export function wordsOf(segments: readonly Segment[]): Word[] {
  const out: Word[] = []
  for (const seg of segments) {
    if (seg.words && seg.words.length > 0) {
      for (const w of seg.words) {
        const text = w.text.trim()
        if (text) out.push({ ...w, text })
      }
      continue
    }
    const tokens = seg.text.split(/\s+/).filter(Boolean)
    const chars = tokens.reduce((n, t) => n + t.length, 0)
    const span = Math.max(0, seg.end - seg.start)
    let t = seg.start
    for (const token of tokens) {
      const d = chars > 0 ? (span * token.length) / chars : 0
      out.push({ start: t, end: t + d, text: token })
      t += d
    }
  }
  return out
}

/** Joins words' text into a transcript. */
export function textOfWords(words: readonly Pick<Word, 'text'>[]): string {
  return words
    .map((w) => w.text.trim())
    .filter(Boolean)
    .join(' ')
}

/**
 * The text of a piece of `segment` made of `words` (a segment split at a change of speaker or
 * a pause): the words joined with single spaces after a leading one, as Whisper's segment
 * texts begin; scripts written without spaces (Chinese, Japanese, Thai: a segment text without
 * one) join them without.
 */
export function textOfPiece(segment: Pick<Segment, 'text'>, words: readonly Pick<Word, 'text'>[]): string {
  const glue = /\s/.test(segment.text.trim()) ? ' ' : ''
  return (glue ? ' ' : '') + words.map((w) => w.text.trim()).join(glue)
}

/** Text of segments joined with single spaces. */
export function textOfSegments(segments: readonly Segment[]): string {
  return segments
    .map((s) => s.text.trim())
    .filter(Boolean)
    .join(' ')
}

/** Shifts a segment (and its words) by `offset` seconds. */
export function shiftSegment(segment: Segment, offset: number): Segment {
  const shifted: Segment = { ...segment, start: segment.start + offset, end: segment.end + offset }
  if (segment.words)
    shifted.words = segment.words.map((w) => ({ ...w, start: w.start + offset, end: w.end + offset }))
  return shifted
}

/**
 * Groups words into segments, starting a new one after sentence-ending punctuation or a
 * pause longer than `maxGapS`.
 */
export function segmentsFromWords(words: readonly Word[], maxGapS = 1): Segment[] {
  const segments: Segment[] = []
  let current: Word[] = []
  const close = () => {
    if (current.length === 0) return
    segments.push({
      start: current[0]!.start,
      end: current[current.length - 1]!.end,
      text: textOfWords(current),
      words: current,
    })
    current = []
  }
  for (const w of words) {
    const prev = current[current.length - 1]
    if (prev && w.start - prev.end > maxGapS) close()
    current.push(w)
    if (/[.!?]["')\]]?$/.test(w.text)) close()
  }
  close()
  return segments
}

/** Keeps the last `maxChars` characters of text, cut at a word boundary. */
export function tailText(text: string, maxChars: number): string {
  const t = text.trim()
  if (t.length <= maxChars) return t
  const cut = t.slice(t.length - maxChars)
  const space = cut.indexOf(' ')
  return space === -1 ? cut : cut.slice(space + 1)
}

/**
 * The segments without the words that hold no letter or digit (a lone "." or "…"), their text
 * rebuilt from the words left, and without the segments left with no word. faster-whisper with
 * word times decodes the silence after the last word again and can answer it with dots (". . ."
 * after a final on the real English streams); a final ending in dots then prompted the next
 * into nothing but dots. Segments without word times are kept as they are, unless their text
 * holds no word either.
 */
/** Whether `text` holds a letter or digit of any script: a word, not only marks ("♪♪", "."). */
export function hasWord(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text)
}

export function dropBareMarks(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = []
  for (const seg of segments) {
    if (!seg.words?.length) {
      if (hasWord(seg.text)) out.push(seg)
      continue
    }
    const words = seg.words.filter((w) => hasWord(w.text))
    if (words.length === 0) continue
    out.push(words.length === seg.words.length ? seg : { ...seg, text: textOfWords(words), words })
  }
  return out
}

/** The segments without their word lists, unless `keep`: what an event carries when word times
 * were asked only for the session's own use. */
export function withoutWords(segments: Segment[], keep = false): Segment[] {
  if (keep) return segments
  return segments.map(({ words: _words, ...rest }) => rest)
}
