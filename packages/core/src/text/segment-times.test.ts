import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Segment, Word } from '../types.js'
import { DEFAULT_SEGMENT_TIMES_OPTIONS, segmentTimes, segmentTimesProblem } from './segment-times.js'

const w = (text: string, start: number, end: number, speaker?: string): Word => ({
  text,
  start,
  end,
  ...(speaker ? { speaker } : {}),
})
const seg = (start: number, end: number, words?: Word[], speaker?: string): Segment => ({
  start,
  end,
  text: words ? words.map((x) => x.text).join(' ') : 'text',
  ...(words ? { words } : {}),
  ...(speaker ? { speaker } : {}),
})
const times = (segments: readonly Segment[]) => segments.map((s) => [s.start, s.end])

describe('segmentTimes', () => {
  it('times a segment by its words, not the engine', () => {
    // Issue 62: "Hello." said at 7.10 s, the engine's segment 0–5.
    const out = segmentTimes([seg(0, 5, [w('Hello.', 7.1, 7.48)])])
    expect(times(out)).toEqual([[7.1, 7.48]])
  })

  it('puts mixed engine and word times in order without overlap (the issue)', () => {
    const out = segmentTimes([
      seg(0, 5, [w('Hello.', 7.1, 7.5)], 'A'),
      seg(5, 6, [w('Hello.', 7.9, 8.3)], 'B'),
      seg(8.98, 9.46, [w('I', 8.98, 9.1), w("didn't", 9.1, 9.3), w('know', 9.3, 9.46)], 'B'),
      seg(9, 10, [w('I', 9.4, 9.5), w('needed', 9.5, 9.8)], 'A'),
      seg(12.76, 14.12, [w('Jersey.', 14.12, 14.12)], 'A'),
    ])
    expect(segmentTimesProblem(out)).toBeUndefined()
    expect(out[0]?.start).toBe(7.1)
    expect(out[2]?.end).toBe(9.4) // cut where the next one's first word starts
    expect(out[4]?.end).toBeCloseTo(14.13, 6) // no zero length
  })

  it('sorts segments by their words', () => {
    const out = segmentTimes([seg(0, 1, [w('b', 3, 4)]), seg(1, 2, [w('a', 1, 2)]), seg(2, 3)])
    expect(out.map((s) => s.text)).toEqual(['a', 'text', 'b'])
    expect(times(out)).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ])
  })

  it('keeps the engine times of a segment without words', () => {
    expect(times(segmentTimes([seg(2, 4), seg(4, 6, [])]))).toEqual([
      [2, 4],
      [4, 6],
    ])
  })

  it('gives zero-length segments the minimum and moves the next one after it', () => {
    const out = segmentTimes([seg(1, 1, [w('a', 1, 1)]), seg(1, 1, [w('b', 1, 1)])], { minSeconds: 0.1 })
    expect(out[0]?.start).toBe(1)
    expect(out[0]?.end).toBeCloseTo(1.1, 9)
    expect(out[1]?.start).toBeCloseTo(1.1, 9)
    expect(out[1]?.end).toBeCloseTo(1.2, 9)
  })

  it('never gives negative or non-finite times', () => {
    const out = segmentTimes([seg(-1, Number.NaN)])
    expect(times(out)).toEqual([[0, DEFAULT_SEGMENT_TIMES_OPTIONS.minSeconds]])
  })

  it('changes neither the segments nor their words', () => {
    const words = [w('a', 1, 2)]
    const input = [seg(0, 5, words)]
    const out = segmentTimes(input)
    expect(input[0]?.start).toBe(0)
    expect(out[0]?.words).toEqual(words)
  })

  it('refuses a minimum out of range', () => {
    expect(() => segmentTimes([], { minSeconds: -1 })).toThrow(/minSeconds/)
    expect(() => segmentTimes([], { minSeconds: Number.NaN })).toThrow(/minSeconds/)
  })

  it('keeps its rules on any segments', () => {
    const word = fc
      .tuple(fc.double({ min: 0, max: 60, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }))
      .map(([start, length]) => w('x', start, start + length))
    const segment = fc
      .tuple(
        fc.double({ min: 0, max: 60, noNaN: true }),
        fc.double({ min: 0, max: 30, noNaN: true }),
        fc.option(fc.array(word, { maxLength: 5 }), { nil: undefined }),
      )
      .map(([start, length, words]) => seg(start, start + length, words))
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 12 }), (segments) => {
        const out = segmentTimes(segments)
        expect(out).toHaveLength(segments.length)
        expect(segmentTimesProblem(out, { tolerance: 1e-9 })).toBeUndefined()
      }),
    )
  })
})

describe('segmentTimesProblem', () => {
  it('names the rule broken', () => {
    expect(segmentTimesProblem([seg(1, 2), seg(0.5, 3)])).toMatch(/starts before segment 0$/)
    expect(segmentTimesProblem([seg(1, 2), seg(1.5, 3)])).toMatch(/before segment 0 ends/)
    expect(segmentTimesProblem([seg(1, 1)])).toMatch(/lasts/)
    expect(segmentTimesProblem([seg(0, 2, [w('a', 1, 2)])])).toMatch(/first word/)
    expect(segmentTimesProblem([seg(1, 3, [w('a', 1, 2)])])).toMatch(/last word/)
  })

  it('finds a segment’s words in a flat list (verbose_json’s)', () => {
    const words = [w('Hello.', 7.1, 7.5), w('Hi.', 8, 8.4)]
    expect(segmentTimesProblem([seg(7.1, 7.5), seg(8, 8.4)], { words })).toBeUndefined()
    expect(segmentTimesProblem([seg(0, 5), seg(5, 9)], { words })).toMatch(/segment 0 .* holds no word/)
    expect(segmentTimesProblem([seg(6, 7.5), seg(8, 8.4)], { words })).toMatch(/before its first word/)
  })
})
