import type { Segment } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { attributeSpeakers, speakerByTurns } from './attribute.js'

const turns = [
  { speaker: 'A', start: 0, end: 2 },
  { speaker: 'B', start: 2.2, end: 4 },
  { speaker: 'A', start: 5, end: 6 },
]
const word = (text: string, start: number, end: number) => ({ text, start, end })

describe('speakerByTurns', () => {
  const of = speakerByTurns(turns)
  it('gives the speaker who overlaps a span most, the nearest in a pause, none without turns', () => {
    expect(of(0.5, 1)).toBe('A')
    expect(of(1.8, 2.6)).toBe('B')
    expect(of(4.2, 4.4)).toBe('B')
    expect(of(4.7, 4.9)).toBe('A')
    expect(speakerByTurns([])(0, 1)).toBeUndefined()
  })
})

describe('attributeSpeakers', () => {
  it('labels words and segments, and splits a segment at the word where the speaker changes', () => {
    const segments: Segment[] = [
      {
        start: 0,
        end: 4,
        text: ' Hello there. Hi, how are you?',
        words: [
          word('Hello', 0.1, 0.5),
          word('there.', 0.5, 1.0),
          word('Hi,', 2.3, 2.6),
          word('how', 2.7, 2.9),
          word('are', 2.9, 3.1),
          word('you?', 3.1, 3.5),
        ],
      },
      { start: 5, end: 6, text: ' Fine.' },
    ]
    const out = attributeSpeakers(segments, speakerByTurns(turns))
    expect(out.map((s) => [s.speaker, s.start, s.end, s.text])).toEqual([
      ['A', 0.1, 1.0, ' Hello there.'],
      ['B', 2.3, 3.5, ' Hi, how are you?'],
      ['A', 5, 6, ' Fine.'],
    ])
    expect(out[1]?.words?.map((w) => w.speaker)).toEqual(['B', 'B', 'B', 'B'])
    // The input is not changed.
    expect(segments[0]?.words?.[0]).not.toHaveProperty('speaker')
  })

  it('keeps a segment whole (its own text) when one speaker says it all; no speakers, no labels', () => {
    const segments: Segment[] = [
      {
        start: 0,
        end: 1,
        text: ' 10 of clubs',
        words: [word('10', 0, 0.3), word('of', 0.3, 0.5), word('clubs', 0.5, 1)],
      },
    ]
    expect(attributeSpeakers(segments, speakerByTurns(turns))).toEqual([
      { ...segments[0], speaker: 'A', words: segments[0]?.words?.map((w) => ({ ...w, speaker: 'A' })) },
    ])
    expect(attributeSpeakers(segments, () => undefined)[0]).not.toHaveProperty('speaker')
  })

  it('joins the words of a split without spaces in scripts written without them', () => {
    const segments: Segment[] = [
      { start: 0, end: 3, text: '你好谢谢', words: [word('你好', 0.5, 1), word('谢谢', 2.5, 3)] },
    ]
    expect(attributeSpeakers(segments, speakerByTurns(turns)).map((s) => s.text)).toEqual(['你好', '谢谢'])
  })
})
