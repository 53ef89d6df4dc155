import { describe, expect, it } from 'vitest'
import type { Segment } from '../types.js'
import { dropSqueezedTail } from './squeezed-tail.js'

/** A segment of [start, end, text, probability] words. */
const seg = (words: [number, number, string, number][]): Segment => ({
  start: words[0]![0],
  end: words[words.length - 1]![1],
  text: words.map((w) => w[2]).join(' '),
  words: words.map(([start, end, text, probability]) => ({ start, end, text, probability })),
})

// Recorded: faster-whisper tiny.en, `hybrid` finals at the full window, real telephone prompts.
const extended = seg([
  [0, 1.32, 'The', 0.04],
  [1.32, 1.9, 'conference', 0.88],
  [1.9, 2.3, 'cannot', 0.97],
  [2.3, 2.66, 'be', 1],
  [2.66, 3.12, 'extended.', 0.99],
])
const thankYou = seg([
  [3.12, 3.14, 'Thank', 0],
  [3.14, 3.16, 'you.', 0.98],
])
const nextTime = seg([
  [3.76, 3.9, "I'll", 0.04],
  [3.9, 3.9, 'see', 0.21],
  [3.9, 3.9, 'you', 0.78],
  [3.9, 3.9, 'next', 0.33],
  [3.9, 3.9, 'time.', 0.83],
])
const laterThankYou = seg([
  [2.84, 2.96, 'Thank', 0.02],
  [2.96, 3, 'you.', 0.97],
])

describe('dropSqueezedTail', () => {
  it('drops made-up phrases squeezed into the end of a final', () => {
    expect(dropSqueezedTail([extended, thankYou])).toEqual([extended])
    expect(dropSqueezedTail([extended, nextTime])).toEqual([extended])
    expect(dropSqueezedTail([extended, laterThankYou])).toEqual([extended])
    expect(dropSqueezedTail([extended, nextTime, thankYou])).toEqual([extended])
  })

  it('keeps spoken words: at a speaking pace, likely, alone, without times, or before the end', () => {
    const spoken = seg([
      [3.2, 3.45, 'Thank', 0.9],
      [3.45, 3.7, 'you.', 0.95],
    ])
    expect(dropSqueezedTail([extended, spoken])).toEqual([extended, spoken])
    // Squeezed, but each word likely and the squeeze alone scores below faster-whisper's bar.
    const quick = seg([
      [3.2, 3.28, 'of', 0.9],
      [3.28, 3.38, 'course.', 0.95],
    ])
    expect(dropSqueezedTail([extended, quick])).toEqual([extended, quick])
    const one = seg([[3.12, 3.14, 'Yes.', 0.1]])
    expect(dropSqueezedTail([extended, one])).toEqual([extended, one])
    const untimed: Segment = { start: 3.12, end: 3.16, text: 'Thank you.' }
    expect(dropSqueezedTail([extended, untimed])).toEqual([extended, untimed])
    // Only the end of a transcript: a squeezed segment followed by speech stays.
    expect(dropSqueezedTail([thankYou, extended])).toEqual([thankYou, extended])
    // The first segment of a final is real speech (`extended` scores 1 for its "The").
    expect(dropSqueezedTail([extended])).toEqual([extended])
    expect(dropSqueezedTail([])).toEqual([])
  })
})
