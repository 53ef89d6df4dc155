import { optionChecker, withDefaults } from '../options.js'
import type { Segment, Word } from '../types.js'

export interface SegmentTimesOptions {
  /**
   * The shortest a segment lasts, in seconds (default 0.01): a segment whose words give it
   * no length (a word of one DTW frame) ends this much after it starts, and the segment
   * after it starts no earlier than that.
   */
  minSeconds?: number
}

export const DEFAULT_SEGMENT_TIMES_OPTIONS = { minSeconds: 0.01 } as const satisfies SegmentTimesOptions

/**
 * Segment times that say when the words were said, as every transcript this project returns
 * gives them (REST, Deepgram's pre-recorded API, live finals and revisions, subtitles):
 *
 * - a segment with words starts at its first word's start and ends at its last word's end
 *   (the words' DTW times); a segment without words (a backend that gives none) keeps the
 *   engine's times;
 * - segments are in order of their start, and none overlaps the next: where they would, the
 *   earlier one ends where the later one starts (a segment never starts before its first word);
 * - none is shorter than `minSeconds`: a segment is lengthened to it, and one after it that
 *   would then overlap starts where it ends;
 * - no time is negative.
 *
 * The words are not changed, and neither are the segments given: new ones are returned.
 */
export function segmentTimes(segments: readonly Segment[], options?: SegmentTimesOptions): Segment[] {
  const o = withDefaults(DEFAULT_SEGMENT_TIMES_OPTIONS, options)
  const check = optionChecker('segmentTimes')
  check.that(
    Number.isFinite(o.minSeconds) && o.minSeconds >= 0 && o.minSeconds <= 1,
    `minSeconds must be from 0 to 1, got ${String(o.minSeconds)}`,
  )
  const timed = segments.map((s) => ({ ...s, ...wordSpan(s) }))
  // Stable: segments that start together keep the engine's order.
  timed.sort((a, b) => a.start - b.start)
  for (let i = 0; i < timed.length; i++) {
    const s = timed[i] as Segment
    const before = timed[i - 1]
    if (before && s.start < before.end) {
      // The earlier one ends where this one starts, but keeps its minimum length.
      before.end = Math.max(s.start, before.start + o.minSeconds)
      if (s.start < before.end) s.start = before.end
    }
    if (s.end < s.start + o.minSeconds) s.end = s.start + o.minSeconds
  }
  return timed
}

/** A segment's span by its words (the earliest start, the latest end), else its own; never negative. */
function wordSpan(segment: Segment): { start: number; end: number } {
  const words = segment.words ?? []
  let start = segment.start
  let end = segment.end
  if (words.length > 0) {
    start = Math.min(...words.map((w) => w.start))
    end = Math.max(...words.map((w) => w.end))
  }
  start = Math.max(0, finite(start))
  return { start, end: Math.max(start, finite(end)) }
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0
}

/**
 * The first of {@link segmentTimes}'s rules that `segments` break, or undefined (for tests and
 * checks of answers): in order, no overlap, none shorter than `minSeconds`, each within its
 * words. A segment's words are its own, else those of `words` (an answer's flat list, as
 * `verbose_json` gives them) whose middle falls in it — and then it must hold one. `tolerance`:
 * seconds allowed for rounding (an answer's times are rounded to the millisecond).
 */
export function segmentTimesProblem(
  segments: readonly { start: number; end: number; words?: readonly Pick<Word, 'start' | 'end'>[] }[],
  options: { minSeconds?: number; tolerance?: number; words?: readonly Pick<Word, 'start' | 'end'>[] } = {},
): string | undefined {
  const min = options.minSeconds ?? DEFAULT_SEGMENT_TIMES_OPTIONS.minSeconds
  const eps = options.tolerance ?? 1e-6
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as (typeof segments)[number]
    const before = segments[i - 1]
    if (before && s.start < before.start - eps) return `segment ${i} starts before segment ${i - 1}`
    if (before && s.start < before.end - eps) return `segment ${i} starts before segment ${i - 1} ends`
    if (s.end - s.start < min - eps) return `segment ${i} lasts ${s.end - s.start} s`
    let words: readonly Pick<Word, 'start' | 'end'>[] = s.words ?? []
    if (words.length === 0 && options.words) {
      words = options.words.filter((w) => {
        const middle = (w.start + w.end) / 2
        return middle >= s.start - eps && middle <= s.end + eps
      })
      if (words.length === 0) return `segment ${i} (${s.start}–${s.end}) holds no word`
    }
    if (words.length === 0) continue
    const first = Math.min(...words.map((w) => w.start))
    const last = Math.max(...words.map((w) => w.end))
    if (s.start < first - eps) return `segment ${i} starts at ${s.start}, before its first word (${first})`
    if (s.end > Math.max(last, s.start + min) + eps)
      return `segment ${i} ends at ${s.end}, after its last word (${last})`
  }
  return undefined
}
