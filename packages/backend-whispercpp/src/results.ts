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
 * Joins whisper.cpp's tokens into words (a token starting with a space starts a word). A
 * token's DTW time is where it starts; a word ends where the token after it starts.
 */
export function wordsFromTokens(
  tokens: readonly { text: string; p: number; dtwMs: number; startMs: number }[],
  clamp: (ms: number) => number,
  segmentEnd: number,
): Word[] {
  const time = (t: { dtwMs: number; startMs: number }) => clamp(t.dtwMs >= 0 ? t.dtwMs : t.startMs)
  const words: Word[] = []
  let current: { text: string; start: number; p: number[] } | undefined
  const flush = (end: number) => {
    if (current?.text.trim()) {
      const probability = current.p.reduce((a, b) => a + b, 0) / current.p.length
      words.push({
        start: current.start,
        end: Math.max(current.start, end),
        text: current.text.trim(),
        probability,
      })
    }
    current = undefined
  }
  for (const t of tokens) {
    const special = t.text.startsWith('[_') || t.text.startsWith('<|')
    if (special || !current || t.text.startsWith(' ')) flush(time(t))
    if (special) continue
    if (!current) current = { text: t.text, start: time(t), p: [t.p] }
    else {
      current.text += t.text
      current.p.push(t.p)
    }
  }
  flush(segmentEnd)
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
