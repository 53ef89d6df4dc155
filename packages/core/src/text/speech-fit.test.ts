import { describe, expect, it } from 'vitest'
import type { Segment } from '../types.js'
import { fitWordsToSpeech, splitAtPauses } from './speech-fit.js'

const word = (text: string, start: number, end: number) => ({ text, start, end })

describe('fitWordsToSpeech', () => {
  const speech = [
    { start: 1.0, end: 2.0 },
    { start: 3.0, end: 4.5 },
  ]

  it('moves a word that starts in a pause to the speech, and one that runs on into silence back to it', () => {
    const [s] = fitWordsToSpeech(
      [
        {
          start: 0,
          end: 5,
          text: ' In the end',
          words: [word('In', 0.4, 1.3), word('the', 1.3, 1.6), word('end', 3.2, 4.9)],
        },
      ],
      speech,
    )
    expect(s?.words).toEqual([word('In', 1.0, 1.3), word('the', 1.3, 1.6), word('end', 3.2, 4.5)])
  })

  it('keeps a word across a pause from its first speech to its last, and one in no speech as it was', () => {
    const [s] = fitWordsToSpeech(
      [{ start: 0, end: 6, text: ' so what', words: [word('so', 1.8, 3.4), word('what', 5.0, 5.5)] }],
      speech,
    )
    expect(s?.words).toEqual([word('so', 1.8, 3.4), word('what', 5.0, 5.5)])
  })

  it('leaves segments without words, and everything when there is no speech, and changes nothing given', () => {
    const given: Segment[] = [{ start: 0.2, end: 4.8, text: ' hello' }]
    expect(fitWordsToSpeech(given, speech)).toEqual(given)
    const withWords: Segment[] = [{ start: 0, end: 1, text: ' hi', words: [word('hi', 0.1, 0.9)] }]
    expect(fitWordsToSpeech(withWords, [])).toEqual(withWords)
    fitWordsToSpeech(withWords, [{ start: 0.5, end: 0.6 }])
    expect(withWords[0]?.words?.[0]).toEqual(word('hi', 0.1, 0.9))
  })
})

describe('splitAtPauses', () => {
  it('cuts a segment where its words pause a second or more, each piece timed and worded by its own words', () => {
    const segments: Segment[] = [
      {
        start: 40.38,
        end: 45.8,
        text: ' Moet je zien? Soms denken.',
        speaker: 'B',
        words: [
          word('Moet', 40.8, 41.0),
          word('je', 41.0, 41.2),
          word('zien?', 41.2, 41.9),
          word('Soms', 43.5, 43.9),
          word('denken.', 43.9, 45.8),
        ],
      },
      { start: 46, end: 47, text: ' Ja.', speaker: 'A', words: [word('Ja.', 46.4, 46.9)] },
    ]
    expect(splitAtPauses(segments).map(({ words, ...s }) => s)).toEqual([
      { start: 40.8, end: 41.9, text: ' Moet je zien?', speaker: 'B' },
      { start: 43.5, end: 45.8, text: ' Soms denken.', speaker: 'B' },
      { start: 46, end: 47, text: ' Ja.', speaker: 'A' },
    ])
    // Shorter pauses keep it whole; so does a segment without words.
    expect(splitAtPauses(segments, { minPauseSeconds: 2 })).toHaveLength(2)
    expect(splitAtPauses([{ start: 0, end: 9, text: ' x' }])).toEqual([{ start: 0, end: 9, text: ' x' }])
    expect(segments[0]?.words).toHaveLength(5)
  })

  it('joins words without spaces in scripts written without them, and refuses a pause of 0', () => {
    const [a, b] = splitAtPauses([
      {
        start: 0,
        end: 4,
        text: '你好世界',
        words: [word('你好', 0, 1), word('世', 2.5, 3), word('界', 3, 4)],
      },
    ])
    expect([a?.text, b?.text]).toEqual(['你好', '世界'])
    expect(() => splitAtPauses([], { minPauseSeconds: 0 })).toThrow(/minPauseSeconds/)
  })
})
