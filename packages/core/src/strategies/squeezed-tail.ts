import { normalizeWord } from '../text/normalize.js'
import type { Segment, Word } from '../types.js'

/**
 * Drops the segments at the end of a transcript that Whisper made up after the speech: a
 * stock phrase ("Thank you.", "I'll see you next time.") whose words are squeezed into the
 * last instant of the audio with unlikely or impossibly short words. Seen on faster-whisper
 * finals of `hybrid` at the full window on real telephone speech, where offline had none.
 *
 * A trailing segment goes when all of these hold:
 * - it has two or more words, each with a probability;
 * - its words last less than {@link MAX_SQUEEZED_SECONDS_PER_WORD} each on average, from the
 *   first word's start to the last one's end (speech does not go that fast);
 * - faster-whisper's own anomaly rule calls it a hallucination (its `is_segment_anomaly`,
 *   behind `hallucination_silence_threshold`): over its first 8 words, a word scores 1 below
 *   probability 0.15, and 15 per second it lasts under 0.133 s; the segment is anomalous
 *   when the score reaches 3 or the number of words.
 *
 * faster-whisper applies its rule only around long silences, which a final's tail does not
 * have; the squeeze stands in for the silence.
 *
 * A trailing segment of one word goes too when its probability is under
 * {@link UNLIKELY_WORD_PROBABILITY} (the part of faster-whisper's rule that calls one word
 * anomalous) and a segment comes before it: after the sentence Whisper adds a lone "Okay.",
 * "in.", "here." or "end." to the pause. On real telephone prompts (faster-whisper tiny.en,
 * `agreement` and `hybrid` finals at the full window) the 28 such words under 0.15 were all
 * made up (0.002–0.133); the lone last words spoken ("Goodbye.", "4.", "Mailbox.") had
 * 0.68–0.98, and a few made-up ones above the bar (0.15–0.51) stay. A final of one word
 * keeps it: "Thank" at 0.005 was the start of "Thank you. Please hold…".
 *
 * Segments without word times are kept.
 */
export function dropSqueezedTail(segments: readonly Segment[]): Segment[] {
  const out = [...segments]
  while (out.length > 0 && madeUp(out[out.length - 1]!, out.length > 1)) out.pop()
  return out
}

/** Below this mean duration per word a segment is squeezed. */
export const MAX_SQUEEZED_SECONDS_PER_WORD = 0.1
/** Below this probability faster-whisper's anomaly rule scores a word as unlikely. */
export const UNLIKELY_WORD_PROBABILITY = 0.15

function madeUp(seg: Segment, afterSpeech: boolean): boolean {
  const words = (seg.words ?? []).filter((w) => normalizeWord(w.text)) // punctuation-only tokens aside
  if (words.length === 0 || words.some((w) => w.probability === undefined)) return false
  if (words.length === 1) return afterSpeech && words[0]!.probability! < UNLIKELY_WORD_PROBABILITY
  const span = words[words.length - 1]!.end - words[0]!.start
  if (span >= words.length * MAX_SQUEEZED_SECONDS_PER_WORD) return false
  const first = words.slice(0, 8)
  const score = anomalyScore(first)
  return score >= 3 || score + 0.01 >= first.length
}

/** faster-whisper's word anomaly score, summed over `words`. */
function anomalyScore(words: readonly Word[]): number {
  let score = 0
  for (const w of words) {
    const duration = w.end - w.start
    if (w.probability! < UNLIKELY_WORD_PROBABILITY) score += 1
    if (duration < 0.133) score += (0.133 - duration) * 15
    if (duration > 2) score += duration - 2
  }
  return score
}
