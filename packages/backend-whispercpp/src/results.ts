import { findRepetitionRun, type Segment, type Word } from '@ws/core'
import type { GgmlFileInfo } from '@ws/models'
import type { AlignmentHeads } from '@ws/whispercpp-addon'

/** A phrase of five or more words said twice in a row, or a shorter one three times: a decoding loop. */
export function hasLoop(segments: readonly Segment[]): boolean {
  return findLoop(segments) !== undefined
}

/**
 * The first decoding loop (as {@link hasLoop} sees one), in words: where its first occurrence
 * starts and ends, and its phrase's length.
 */
export function findLoop(
  segments: readonly Segment[],
): { start: number; end: number; ngram: number } | undefined {
  const all = segments.flatMap((s) => s.text.split(/\s+/)).filter(Boolean)
  let offset = 0
  for (;;) {
    const run = findRepetitionRun(all.slice(offset), { maxNgram: 24, minRepeats: 2 })
    if (!run) return undefined
    if (run.ngram >= 5 || run.repeats >= 3) {
      const start = offset + run.start
      return { start, end: start + run.ngram, ngram: run.ngram }
    }
    offset += run.start + 1
  }
}

/** The segments' first `count` words (by whitespace), cut inside a segment where needed. */
export function firstWords(segments: readonly Segment[], count: number): Segment[] {
  const out: Segment[] = []
  let left = count
  for (const s of segments) {
    if (left <= 0) break
    const texts = s.text.split(/\s+/).filter(Boolean)
    if (texts.length <= left) out.push(s)
    else {
      const words = s.words?.slice(0, left)
      const end = words?.length ? words[words.length - 1]!.end : s.end
      out.push({ ...s, text: texts.slice(0, left).join(' '), end, ...(words ? { words } : {}) })
    }
    left -= texts.length
  }
  return out
}

/**
 * Seconds a character takes when spoken (about 14 a second, English read aloud): a segment's
 * first word has no token before it to say where it starts, so it starts this much per letter
 * before it ends (never before the segment).
 */
export const SECONDS_PER_LETTER = 0.07

/** A token of whisper.cpp: its text, probability, DTW time and timestamp-token time (ms; -1: none). */
export interface TimedToken {
  text: string
  p: number
  dtwMs: number
  startMs: number
}

/**
 * Joins whisper.cpp's tokens into words (a token starting with a space starts a word). A
 * token's DTW time is where the alignment leaves it — where it ends (measured: the last word's
 * time is the speech's offset, `bench/word-times.mjs`). So a word ends at the time of its last
 * token with a letter or digit (punctuation after it is aligned over the pause), and starts
 * where the token before it ends; the first word of a segment, which has none, starts
 * {@link SECONDS_PER_LETTER} per letter before its end, and never before the segment.
 */
export function wordsFromTokens(
  tokens: readonly TimedToken[],
  clamp: (ms: number) => number,
  segment: { start: number; end: number },
): Word[] {
  const time = (t: TimedToken) => (t.dtwMs >= 0 ? t.dtwMs : t.startMs)
  const groups: TimedToken[][] = []
  const before: number[] = [] // the time of the token before each word's first (-1: none)
  let last = -1
  for (const t of tokens) {
    const special = t.text.startsWith('[_') || t.text.startsWith('<|')
    if (special) {
      groups.push([])
      continue
    }
    const open = groups.at(-1)
    if (open && open.length > 0 && !t.text.startsWith(' ')) open.push(t)
    else {
      groups.push([t])
      before.push(last)
    }
    last = time(t)
  }
  const words: Word[] = []
  groups
    .filter((g) => g.length > 0)
    .forEach((group, i) => {
      const text = group
        .map((t) => t.text)
        .join('')
        .trim()
      if (!text) return
      const spoken = group.filter((t) => /[\p{L}\p{N}]/u.test(t.text))
      const endMs = time((spoken.at(-1) ?? group.at(-1)) as TimedToken)
      const end = endMs >= 0 ? clamp(endMs) : segment.end
      const previous = before[i] ?? -1
      const letters = text.replace(/[^\p{L}\p{N}]/gu, '').length
      const start =
        previous >= 0
          ? clamp(previous)
          : Math.max(segment.start, end - SECONDS_PER_LETTER * Math.max(1, letters))
      const probability = group.reduce((a, t) => a + t.p, 0) / group.length
      words.push({ start: Math.min(start, end), end, text, probability })
    })
  // Keep times monotonic (DTW times can jitter by a frame).
  for (let i = 1; i < words.length; i++) {
    if (words[i]!.start < words[i - 1]!.start) words[i]!.start = words[i - 1]!.start
    if (words[i]!.end < words[i]!.start) words[i]!.end = words[i]!.start
  }
  return words
}

/** whisper.cpp's alignment-head preset for a model, known by its shape; else the top half of the decoder's heads. */
export function alignmentHeads(h: GgmlFileInfo['hparams']): AlignmentHeads | { topLayers: number } {
  const english = h.nVocab < 51865
  const size = ({ 384: 'tiny', 512: 'base', 768: 'small', 1024: 'medium' } as const)[h.nAudioState as 384]
  if (size && h.nAudioLayer === { tiny: 4, base: 6, small: 12, medium: 24 }[size]) {
    return english ? `${size}.en` : size
  }
  if (h.nAudioState === 1280 && h.nAudioLayer === 32 && !english) {
    if (h.nMels === 128) return h.nTextLayer === 4 ? 'large-v3-turbo' : 'large-v3'
    return 'large-v2'
  }
  return { topLayers: Math.max(1, Math.ceil(h.nTextLayer / 2)) }
}

/** whisper.cpp refuses input under 1000 ms (and returns nothing): short audio is padded to this. */
export const MIN_SAMPLES = 16_800

/** `audio`, padded with silence to {@link MIN_SAMPLES} when shorter. */
export function paddedToMinimum(audio: Float32Array): Float32Array {
  if (audio.length >= MIN_SAMPLES) return audio
  const out = new Float32Array(MIN_SAMPLES)
  out.set(audio)
  return out
}
