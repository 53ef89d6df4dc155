import { normalizeWord } from '../text/normalize.js'
import { textOfWords, wordsOf } from '../text/words.js'
import type { Segment, Word } from '../types.js'

/**
 * Removes the transcript of prepended context audio and shifts times back to the new
 * audio. A segment that ends inside the context is dropped; one that starts after it is
 * kept whole; one that straddles its end keeps exactly the words whose middle lies after it
 * (the backend's word timestamps, or an even split of the segment's time when it has none).
 * Times come out relative to the end of the context, never below 0.
 *
 * With `previousText` (the previous utterance's final), the words heard in the context are
 * checked against it: when they begin with the end of that text and go on with more words,
 * those further words were cut off at the boundary (Whisper drops a trailing fragment of
 * speech) and are kept, so a cut in the middle of speech loses no words. Words placed just
 * after the context (within {@link LATE_WORD_SECONDS}) that, with the context's words, repeat
 * the end of that text exactly were heard in the context with late word times (whisper.cpp's
 * DTW times run up to a few hundred ms late) and are dropped, so no word is repeated either.
 */
export function dropContext(
  segments: readonly Segment[],
  contextSeconds: number,
  previousText?: string,
): Segment[] {
  if (contextSeconds <= 0) return segments.map((s) => ({ ...s }))
  const shiftWord = (w: Word): Word => ({
    ...w,
    start: Math.max(0, w.start - contextSeconds),
    end: Math.max(0, w.end - contextSeconds),
  })
  // Words (real or estimated) of each segment, and which of them lie in the context.
  const perSegment = segments.map((seg) => wordsOf([seg]))
  const inContext = perSegment.flat().filter((w) => middle(w) < contextSeconds)
  const previous = previousText ? wordsOfText(previousText) : []
  const rescued = new Set<Word>(previousText ? inContext.slice(matchedPrefix(inContext, previous)) : [])
  const repeated = new Set<Word>(
    rescued.size === 0 ? lateRepeats(inContext, perSegment.flat(), contextSeconds, previous) : [],
  )
  const out: Segment[] = []
  segments.forEach((seg, i) => {
    const all = perSegment[i]!
    const estimated = !seg.words || seg.words.length === 0
    const kept = all.filter((w) => (middle(w) >= contextSeconds && !repeated.has(w)) || rescued.has(w))
    if (kept.length === 0) return
    if (kept.length === all.length && seg.start >= contextSeconds) {
      const shifted: Segment = { ...seg, start: seg.start - contextSeconds, end: seg.end - contextSeconds }
      if (seg.words) shifted.words = seg.words.map(shiftWord)
      out.push(shifted)
      return
    }
    const words = kept.map(shiftWord)
    const trimmed: Segment = {
      start: words[0]!.start,
      end: Math.max(words[words.length - 1]!.end, seg.end - contextSeconds),
      text: textOfWords(words),
    }
    if (!estimated) trimmed.words = words
    out.push(trimmed)
  })
  return out
}

/** A word's place in time: the middle of its span. */
function middle(w: Word): number {
  return (w.start + w.end) / 2
}

/** How far after the context a word's middle may lie and still be a late-timed context word. */
export const LATE_WORD_SECONDS = 0.8

/**
 * The words just after the context that, following the context's words, repeat the end of
 * the previous text exactly (the longest such run).
 */
function lateRepeats(
  inContext: readonly Word[],
  words: readonly Word[],
  contextSeconds: number,
  previous: readonly string[],
): Word[] {
  const heard = inContext.map((w) => normalizeWord(w.text))
  const late = words.filter(
    (w) => middle(w) >= contextSeconds && middle(w) < contextSeconds + LATE_WORD_SECONDS,
  )
  for (let k = late.length; k >= 1; k--) {
    const run = [...heard, ...late.slice(0, k).map((w) => normalizeWord(w.text))]
    if (
      run.length <= previous.length &&
      run.every((w, i) => w && w === previous[previous.length - run.length + i])
    )
      return late.slice(0, k)
  }
  // The context heard differently (or not at all), but the first words after it say the
  // previous text's last words again: "…unmute yourself" then "yourself, 2 to lock…" (real
  // telephone speech, the reduced window timing the context's last word just after it).
  for (let k = Math.min(late.length, previous.length); k >= 1; k--) {
    const run = late.slice(0, k).map((w) => normalizeWord(w.text))
    if (run.every((w, i) => w && w === previous[previous.length - k + i])) return late.slice(0, k)
  }
  return []
}

function wordsOfText(text: string): string[] {
  return text.split(/\s+/).map(normalizeWord).filter(Boolean)
}

/**
 * How many leading context words repeat the end of the previous text: the largest m whose
 * first m words equal the previous text's last m words (one word may differ when m ≥ 3).
 * When no prefix lines up: if most context words occur near the end of the previous text,
 * they are a different hearing of it and all are dropped (the time rule); otherwise none of
 * them was transcribed before (the context held silence, then the start of new speech) and
 * all are kept.
 */
function matchedPrefix(context: readonly Word[], previous: readonly string[]): number {
  const heard = context.map((w) => normalizeWord(w.text)).filter(Boolean)
  if (heard.length < context.length) return context.length // punctuation-only tokens: keep the time rule
  for (let m = Math.min(heard.length, previous.length); m >= 1; m--) {
    let misses = 0
    for (let k = 0; k < m; k++) if (heard[k] !== previous[previous.length - m + k]) misses++
    if (misses === 0 || (m >= 3 && misses <= 1)) return m
  }
  const tail = new Set(previous.slice(-(heard.length + 3)))
  const seen = heard.filter((w) => tail.has(w)).length
  return seen * 2 >= heard.length ? heard.length : 0
}
