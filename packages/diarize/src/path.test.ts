import { describe, expect, it } from 'vitest'
import { bestPath } from './path.js'

describe('bestPath', () => {
  it('follows each window’s best label when switching is free', () => {
    expect(
      bestPath(
        [
          [0.5, 0.1],
          [0.2, 0.6],
          [0.7, 0.1],
        ],
        0,
      ),
    ).toEqual([0, 1, 0])
  })
  it('keeps one label through a window that fits another only slightly better', () => {
    // Window 1 prefers label 1 by 0.1: not worth two switches of 0.2.
    expect(
      bestPath(
        [
          [0.6, 0.2],
          [0.3, 0.4],
          [0.6, 0.2],
        ],
        0.2,
      ),
    ).toEqual([0, 0, 0])
  })
  it('switches once where a run of windows clearly fits another label', () => {
    expect(
      bestPath(
        [
          [0.6, 0.2],
          [0.6, 0.3],
          [0.2, 0.6],
          [0.1, 0.7],
          [0.2, 0.6],
        ],
        0.2,
      ),
    ).toEqual([0, 0, 1, 1, 1])
  })
  it('switches where a change is cheap (a pause), not where it is dear', () => {
    const scores = [
      [0.6, 0.2],
      [0.4, 0.3],
      [0.3, 0.42],
    ]
    // The last window prefers label 1 by 0.12: not worth a switch of 0.2, worth one of 0.05.
    expect(bestPath(scores, 0.2)).toEqual([0, 0, 0])
    expect(bestPath(scores, [0.2, 0.05])).toEqual([0, 0, 1])
    expect(bestPath(scores, [0.05, 0.2])).toEqual([0, 0, 0])
  })
  it('never takes a forbidden label', () => {
    const no = Number.NEGATIVE_INFINITY
    expect(
      bestPath(
        [
          [0.1, no, 0.9],
          [no, 0, 0.9],
          [0.2, 0.8, no],
        ],
        0.5,
      ),
    ).toEqual([2, 2, 1])
  })
  it('answers nothing for no windows and the best label for one', () => {
    expect(bestPath([], 0.2)).toEqual([])
    expect(bestPath([[0.1, 0.3, 0.2]], 0.2)).toEqual([1])
  })
})
