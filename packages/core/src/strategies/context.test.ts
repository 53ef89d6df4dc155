import { describe, expect, it } from 'vitest'
import { textOfWords } from '../text/words.js'
import type { Segment, Word } from '../types.js'
import { CarriedUtterances, carriedWordCount, cutCarried, withCarried } from './context.js'

const w = (start: number, end: number, text: string) => ({ start, end, text })
const words = (text: string) => text.split(' ').map((t) => ({ text: t }))

describe('carriedWordCount', () => {
  it('counts the words that say the carried text again', () => {
    expect(carriedWordCount(words('press one to mute. Two to lock'), 'Press 1 to mute.')).toBe(4)
    expect(carriedWordCount(words('press one to mute. Two to lock'), 'press one to mute')).toBe(4)
  })

  it('takes a carried word heard differently as a miss, not as a new word', () => {
    // Real telephone speech: the carried "…unmute yourself" heard as "on mute yourself". Cuts
    // after 1 to 4 words are all two edits away; the words' times choose.
    const heard = [w(0, 0.3, 'or'), w(0.3, 0.5, 'on'), w(0.5, 0.8, 'mute'), w(0.8, 1.4, 'yourself,')]
    const next = [w(1.7, 1.9, '2'), w(1.9, 2.0, 'to'), w(2.0, 2.3, 'lock')]
    expect(carriedWordCount([...heard, ...next], 'or unmute yourself.', 1.5)).toBe(4)
    // Without times, the fewest.
    expect(
      carriedWordCount(
        [...heard, ...next].map(({ text }) => ({ text })),
        'or unmute yourself.',
      ),
    ).toBe(1)
  })

  it('cuts before a new word when a carried word went unheard', () => {
    // "mute" not heard: "Two" is new, not the missing word (both cuts are one edit away).
    const heard = [w(0, 0.4, 'press'), w(0.4, 0.7, 'one'), w(0.7, 1.2, 'to')]
    const next = [w(1.5, 1.8, 'Two'), w(1.8, 2, 'to'), w(2, 2.3, 'lock')]
    expect(carriedWordCount([...heard, ...next], 'press one to mute', 1.4)).toBe(3)
  })

  it('is 0 when the decode skipped the carried audio, or nothing was carried', () => {
    expect(carriedWordCount(words('to reach an operator'), 'is currently active.')).toBe(0)
    expect(carriedWordCount(words('to reach an operator'), '')).toBe(0)
    expect(carriedWordCount([], 'is currently active.')).toBe(0)
  })

  it('lets punctuation-only words and spacing pass freely', () => {
    expect(carriedWordCount(words('is currently active ... press zero'), 'is  currently active.')).toBe(3)
  })
})

describe('cutCarried', () => {
  // 2 s carried ("was the end.") then new audio ("And now the start of it.").
  const segments: Segment[] = [
    {
      start: 0,
      end: 1.6,
      text: 'was the end. And now',
      words: [
        w(0, 0.3, 'was'),
        w(0.3, 0.6, 'the'),
        w(0.6, 1.1, 'end.'),
        w(2.1, 2.3, 'And'),
        w(2.3, 2.6, 'now'),
      ],
    },
    {
      start: 2.6,
      end: 3.4,
      text: 'the start of it.',
      words: [w(2.6, 2.8, 'the'), w(2.8, 3.0, 'start'), w(3.0, 3.2, 'of'), w(3.2, 3.4, 'it.')],
    },
  ]

  it('keeps exactly the words after the carried text, with times of the new audio', () => {
    const { segments: out, heard } = cutCarried(segments, 2, 'Was the end.')
    expect(heard).toBe(3)
    expect(out.map((s) => s.text)).toEqual(['And now', 'the start of it.'])
    expect(out[0]!.words!.map((x) => [x.text, +x.start.toFixed(3), +x.end.toFixed(3)])).toEqual([
      ['And', 0.1, 0.3],
      ['now', 0.3, 0.6],
    ])
    expect(out[1]).toMatchObject({ start: expect.closeTo(0.6, 9), end: expect.closeTo(1.4, 9) })
  })

  it('cuts by the words, not their times', () => {
    // The carried "end." timed as if it ran into the new audio (a word stretched over a pause).
    const late: Segment[] = [
      {
        start: 0,
        end: 2.4,
        text: 'was the end.',
        words: [w(0, 0.3, 'was'), w(0.3, 0.6, 'the'), w(0.6, 2.4, 'end.')],
      },
      { start: 2.4, end: 3, text: 'And now.', words: [w(2.4, 2.6, 'And'), w(2.6, 3, 'now.')] },
    ]
    expect(cutCarried(late, 2, 'was the end.').segments.map((s) => s.text)).toEqual(['And now.'])
  })

  it('splits a segment without word times by an even estimate', () => {
    const plain: Segment[] = [{ start: 0, end: 3, text: 'was the end. And now' }]
    const out = cutCarried(plain, 2, 'was the end.').segments
    expect(out.map((s) => s.text)).toEqual(['And now'])
    expect(out[0]!.words).toBeUndefined()
    expect(out[0]!.start).toBeGreaterThanOrEqual(0)
    expect(out[0]!.end).toBeCloseTo(1, 9)
  })

  it('only shifts times when nothing was carried', () => {
    const out = cutCarried(segments, 0, '')
    expect(out.heard).toBe(0)
    expect(out.segments.map((s) => s.text)).toEqual(segments.map((s) => s.text))
    expect(textOfWords(out.segments.flatMap((s) => s.words as Word[]))).toBe(
      'was the end. And now the start of it.',
    )
  })

  it('keeps everything, with times never below 0, when the decode skipped the carried audio', () => {
    const skipped: Segment[] = [
      { start: 1.9, end: 2.5, text: 'to reach', words: [w(1.9, 2.2, 'to'), w(2.2, 2.5, 'reach')] },
    ]
    const out = cutCarried(skipped, 2, 'is currently active.')
    expect(out.heard).toBe(0)
    expect(out.segments).toEqual([
      {
        start: 0,
        end: expect.closeTo(0.5, 9),
        text: 'to reach',
        words: [expect.anything(), expect.anything()],
      },
    ])
  })
})

describe('CarriedUtterances', () => {
  it('keeps the last utterances with text within contextSamples, and the text before them', () => {
    const c = new CarriedUtterances(300, 200)
    const a = new Float32Array(100).fill(1)
    c.remember(a, 'one two')
    c.remember(new Float32Array(50), '') // no text: not carried
    c.remember(new Float32Array(150).fill(2), 'three')
    c.remember(new Float32Array(100).fill(3), 'four five')
    // 100 + 150 + 100 > 300: the first went to the text before.
    expect(c.fitting(10_000)).toBe(2)
    expect(c.fitting(249)).toBe(1)
    expect(c.fitting(0)).toBe(0)
    expect(c.last(2).text).toBe('three four five')
    expect(c.last(2).audio.map((x) => x.length)).toEqual([150, 100])
    expect(c.textBefore(2)).toBe('one two')
    expect(c.textBefore(1)).toBe('one two three')
    expect(c.textBefore()).toBe('one two three four five')
    // An utterance longer than contextSamples is text only.
    c.remember(new Float32Array(400), 'six')
    expect(c.fitting(10_000)).toBe(0)
    expect(c.textBefore()).toBe('one two three four five six')
    c.reset()
    expect([c.fitting(10_000), c.textBefore()]).toEqual([0, ''])
  })

  it('holds a copy of the audio (a caller may reuse its buffer)', () => {
    const c = new CarriedUtterances(1000, 200)
    const buffer = new Float32Array(10).fill(0.5)
    c.remember(buffer, 'hello')
    buffer.fill(0)
    expect(c.last(1).audio[0]![0]).toBe(0.5)
  })
})

describe('withCarried', () => {
  it('puts the carried audio first and cuts its words off the result by their text', () => {
    const carried = { audio: [new Float32Array(8000), new Float32Array(8000)], text: 'was the end.' }
    const { input, cut } = withCarried(carried, new Float32Array(4000), 8000)
    expect(input.length).toBe(20_000)
    const out = cut([{ start: 0, end: 2.4, text: 'was the end. And now' }])
    expect(out.heard).toBe(3)
    expect(out.segments.map((s) => s.text)).toEqual(['And now'])
    // Nothing carried: the audio as it is.
    const audio = new Float32Array(10)
    expect(withCarried({ audio: [], text: '' }, audio, 8000).input).toBe(audio)
  })
})
