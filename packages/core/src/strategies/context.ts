import { rms } from '../audio/energy.js'
import { normalizeWord } from '../text/normalize.js'
import { textOfWords, wordsOf } from '../text/words.js'
import type { Segment, Word } from '../types.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/**
 * Removes the transcript of prepended context audio and shifts times back to the new
 * audio. A segment that ends inside the context is dropped; one that starts after it is
 * kept whole; one that straddles its end keeps exactly the words not heard in the context
 * ({@link heardInContext} with the backend's word timestamps; the middle of an even split of
 * the segment's time when it has none). Times come out relative to the end of the context,
 * never below 0.
 *
 * With `previousText` (the previous utterance's final), the words heard in the context are
 * checked against it: when they begin with the end of that text and go on with more words,
 * those further words were cut off at the boundary (Whisper drops a trailing fragment of
 * speech) and are kept, so a cut in the middle of speech loses no words. Context words that
 * line up with no end of that text are a different hearing of it and are dropped: on real
 * telephone speech, keeping them put "After a rise" (for "…leader arrives") before the next
 * final. Words placed just after the context (within {@link LATE_WORD_SECONDS}) that, with the
 * context's words, repeat the end of that text exactly were heard in the context with late word
 * times (whisper.cpp's DTW times run up to a few hundred ms late) and are dropped, so no word is
 * repeated either.
 */
export function dropContext(
  segments: readonly Segment[],
  contextSeconds: number,
  previousText?: string,
  audio?: Float32Array,
): Segment[] {
  return cutContext(segments, contextSeconds, previousText, audio).segments
}

/**
 * {@link dropContext}, and how many words were heard in the context (`heard`, late-timed ones
 * included): none, when the context carried speech, means the decode skipped the start of its
 * audio, and with it, at times, the first new words (real telephone speech: "…is currently
 * active" then "to reach an operator", where "press 0" had been said).
 */
export function cutContext(
  segments: readonly Segment[],
  contextSeconds: number,
  previousText?: string,
  audio?: Float32Array,
): { segments: Segment[]; heard: number } {
  if (contextSeconds <= 0) return { segments: segments.map((s) => ({ ...s })), heard: 0 }
  const shiftWord = (w: Word): Word => ({
    ...w,
    start: Math.max(0, w.start - contextSeconds),
    end: Math.max(0, w.end - contextSeconds),
  })
  // Words (real or estimated) of each segment, and which of them lie in the context.
  const perSegment = segments.map((seg) => wordsOf([seg]))
  const estimated = segments.map((seg) => !seg.words || seg.words.length === 0)
  const previous = previousText ? wordsOfText(previousText) : []
  const all = perSegment.flat()
  const contextWords = new Set(
    perSegment.flatMap((words, k) =>
      words.filter((w) =>
        estimated[k] ? middle(w) < contextSeconds : heardInContext(w, all, contextSeconds, previous, audio),
      ),
    ),
  )
  const inContext = [...contextWords]
  const rescued = new Set<Word>(previousText ? inContext.slice(matchedPrefix(inContext, previous)) : [])
  const repeated = new Set<Word>(
    rescued.size === 0 ? lateRepeats(inContext, all, contextSeconds, previous) : [],
  )
  const out: Segment[] = []
  segments.forEach((seg, i) => {
    const words = perSegment[i]!
    const kept = words.filter((w) => (!contextWords.has(w) && !repeated.has(w)) || rescued.has(w))
    if (kept.length === 0) return
    if (kept.length === words.length && seg.start >= contextSeconds) {
      const shifted: Segment = { ...seg, start: seg.start - contextSeconds, end: seg.end - contextSeconds }
      if (seg.words) shifted.words = seg.words.map(shiftWord)
      out.push(shifted)
      return
    }
    const shifted = kept.map(shiftWord)
    const trimmed: Segment = {
      start: shifted[0]!.start,
      end: Math.max(shifted[shifted.length - 1]!.end, seg.end - contextSeconds),
      text: textOfWords(shifted),
    }
    if (!estimated[i]) trimmed.words = shifted
    out.push(trimmed)
  })
  return { segments: out, heard: contextWords.size + repeated.size }
}

/**
 * Whether a word was heard in the context audio. A word that ends in the context was; one that
 * starts after it was not. One after the first that straddles its end with punctuation after it
 * and more words after it was (the pause after what was heard, stretched over). Another is
 * decided by where its sound is: the context ends in the pause before the new speech, and backends stretch words over a pause
 * differently (whisper.cpp ends a word where the next starts; faster-whisper may start a word
 * where the one before ended). With the decoded audio (16 kHz, context first), the side of the
 * end with the louder part of the word wins; without it, where the word starts. The first
 * word is the exception: DTW alignment starts its path at the first frame, so after audio the
 * model did not transcribe (a prompted decode often skips words its prompt holds) the first
 * word spans the whole context. It is a context word only when it is the last word of the
 * previous text (without one, when its middle lies in the context).
 */
function heardInContext(
  w: Word,
  all: readonly Word[],
  contextSeconds: number,
  previous: readonly string[],
  audio: Float32Array | undefined,
): boolean {
  const first = w === all[0]
  // faster-whisper starts such a first word at 0 and may end it just before the context's end.
  const pulledBack = first && w.start < PULLED_BACK_SECONDS && w.end > contextSeconds / 2
  if (w.end <= contextSeconds && !pulledBack) return true
  if (w.start >= contextSeconds) return false
  if (first) {
    if (previous.length === 0) return middle(w) < contextSeconds
    return normalizeWord(w.text) === previous[previous.length - 1]
  }
  // A later word with punctuation after it and more words after that, across the end of the
  // context, ends what was heard in it: Whisper stretches the last word before a pause over
  // the pause ("…for Z" heard as "Keep Rizzie," over 0.38–1.76 s of a 1 s context, then
  // "incoming call"). (A first word like it may be new speech, "Yes," over skipped context.)
  if (PAUSE_PUNCTUATION.test(w.text.trim()) && w !== all[all.length - 1]) return true
  if (!audio) return true
  const at = (t: number) => Math.min(audio.length, Math.max(0, Math.round(t * WHISPER_SAMPLE_RATE)))
  const cut = at(contextSeconds)
  return rms(audio.subarray(at(w.start), cut)) >= rms(audio.subarray(cut, at(w.end)))
}

/** Punctuation Whisper puts after the last word it heard before a pause. */
const PAUSE_PUNCTUATION = /[.,!?;:]["')\]]*$/

/** A first word starting this close to the audio's start may have been pulled back to it. */
const PULLED_BACK_SECONDS = 0.05

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
  // Or a piece of them: the first word after the context says again how the previous text
  // ends, letter for letter or nearly ("…audio disabled" then "abled", "…hash key" then
  // "hashkey", "…reject it" then "rejected": real telephone speech).
  const [next] = late
  return next && echoesEnd(normalizeWord(next.text), previous) ? [next] : []
}

/** Letters a piece of a word needs to count as an echo of the previous text's end. */
const MIN_ECHO_LETTERS = 3

/**
 * Whether `word` is how the previous text ends (its last one or two words, spaces dropped),
 * read again from some letter on: exactly, or with an edit per four letters.
 */
function echoesEnd(word: string, previous: readonly string[]): boolean {
  if (word.length < MIN_ECHO_LETTERS) return false
  // A tail shorter than the word (no previous text, or a short one) is too far off to pass.
  const end = previous.slice(-2).join('')
  const tail = end.slice(Math.max(0, end.length - word.length))
  return editDistance(word, tail) <= Math.floor(word.length / 4)
}

/** Levenshtein distance of two short strings. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

function wordsOfText(text: string): string[] {
  return text.split(/\s+/).map(normalizeWord).filter(Boolean)
}

/**
 * How many leading context words repeat the end of the previous text: the largest m whose
 * first m words equal the previous text's last m words (one word may differ when m ≥ 3).
 * When no prefix lines up, the context was heard differently and all its words are dropped.
 */
function matchedPrefix(context: readonly Word[], previous: readonly string[]): number {
  const heard = context.map((w) => normalizeWord(w.text)).filter(Boolean)
  if (heard.length < context.length) return context.length // punctuation-only tokens: keep the time rule
  for (let m = Math.min(heard.length, previous.length); m >= 1; m--) {
    let misses = 0
    for (let k = 0; k < m; k++) if (heard[k] !== previous[previous.length - m + k]) misses++
    if (misses === 0 || (m >= 3 && misses <= 1)) return m
  }
  return heard.length
}
