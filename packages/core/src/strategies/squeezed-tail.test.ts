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

  it('drops a lone unlikely word added after the sentence', () => {
    // Recorded: faster-whisper tiny.en, `agreement` and `hybrid` finals at the full window.
    const active = seg([
      [54.34, 55.2, 'Your', 0.9],
      [55.2, 56.1, 'temporary', 0.95],
      [56.1, 56.5, 'greeting', 0.97],
      [56.5, 56.7, 'is', 0.99],
      [56.7, 56.9, 'currently', 0.98],
      [56.9, 56.92, 'active.', 0.96],
    ])
    expect(dropSqueezedTail([active, seg([[56.92, 56.96, 'in.', 0.025]])])).toEqual([active])
    expect(dropSqueezedTail([active, seg([[38.3, 38.56, 'Okay.', 0.011]])])).toEqual([active])
    expect(dropSqueezedTail([active, seg([[69.02, 69.22, 'Thanks.', 0.133]])])).toEqual([active])
    // With a punctuation-only token beside it, and after another made-up tail.
    const hereDot = seg([
      [60.49, 60.63, 'here', 0.043],
      [60.63, 60.63, '.', 0.9],
    ])
    expect(dropSqueezedTail([active, hereDot])).toEqual([active])
    expect(dropSqueezedTail([active, thankYou, seg([[87.6, 87.7, 'See.', 0.074]])])).toEqual([active])
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
    // Lone last words spoken (recorded): likely enough.
    const goodbye = seg([[44.31, 44.59, 'Goodbye.', 0.678]])
    expect(dropSqueezedTail([extended, goodbye])).toEqual([extended, goodbye])
    const four = seg([[64.22, 64.76, '4.', 0.978]])
    expect(dropSqueezedTail([extended, four])).toEqual([extended, four])
    // A final of one word keeps it, however unlikely (recorded: "Thank" began "Thank you…").
    const thank = seg([[88.9, 88.9, 'Thank', 0.005]])
    expect(dropSqueezedTail([thank])).toEqual([thank])
    // Only the probability counts for one word: a short likely one stays.
    const yes = seg([[3.12, 3.14, 'Yes.', 0.6]])
    expect(dropSqueezedTail([extended, yes])).toEqual([extended, yes])
    const untimed: Segment = { start: 3.12, end: 3.16, text: 'Thank you.' }
    expect(dropSqueezedTail([extended, untimed])).toEqual([extended, untimed])
    // Only the end of a transcript: a squeezed segment followed by speech stays.
    expect(dropSqueezedTail([thankYou, extended])).toEqual([thankYou, extended])
    // The first segment of a final is real speech (`extended` scores 1 for its "The").
    expect(dropSqueezedTail([extended])).toEqual([extended])
    expect(dropSqueezedTail([])).toEqual([])
  })
})
