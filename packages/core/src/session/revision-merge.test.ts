import { describe, expect, it } from 'vitest'
import { textOfWords } from '../text/words.js'
import type { Word } from '../types.js'
import { alignStretches, mergeRevision } from './revision-merge.js'

/** Words one second apart from `from`, each `text:probability` (a bare word: 0.95). */
function words(spec: string, from = 0): Word[] {
  return spec.split(' ').map((item, k) => {
    const [text, p] = item.split(':')
    return { text: text!, start: from + k, end: from + k + 0.8, probability: p ? Number(p) : 0.95 }
  })
}
const merged = (finals: string, revision: string) =>
  textOfWords(mergeRevision(words(finals), words(revision)))

describe('alignStretches', () => {
  it('pairs the words both agree on (case and punctuation aside) and groups the rest', () => {
    const s = alignStretches(words('Press one to mute.'), words('press 1 to mute'))
    expect(s.map((x) => [x.same, x.finals, x.revision])).toEqual([
      [true, [0], [0]],
      [false, [1], [1]],
      [true, [2], [2]],
      [true, [3], [3]],
    ])
  })

  it('keeps an insertion or a deletion as a stretch with one side empty', () => {
    const s = alignStretches(words('you are trying'), words('or trying'))
    expect(s.filter((x) => !x.same).map((x) => [x.finals, x.revision])).toEqual([[[0, 1], [0]]])
    const d = alignStretches(words('to lock'), words('to to lock'))
    expect(d.filter((x) => !x.same).map((x) => [x.finals, x.revision])).toEqual([[[], [0]]])
  })
})

describe('mergeRevision', () => {
  it('takes the revision where the model was surer of it ("to to lock" → "2 to lock", as on the real streams)', () => {
    expect(merged('yourself. to:0.46 to:0.67 lock', 'yourself. 2:0.95 to:0.93 lock')).toBe(
      'yourself. 2 to lock',
    )
  })

  it('keeps the finals where the model was surer of them ("you are trying" against "or trying")', () => {
    expect(merged('party you:0.71 are:0.54 trying', 'party or:0.52 trying:0.81')).toBe('party you are trying')
  })

  it('keeps the revision where both agree, its punctuation and times with it', () => {
    const out = mergeRevision(words('the quick brown fox'), words('The quick brown fox.', 10))
    expect(textOfWords(out)).toBe('The quick brown fox.')
    expect(out[0]!.start).toBe(10)
  })

  it('keeps a word only one side has if the model was as sure of it as of the agreed words beside it', () => {
    expect(merged('it is easy', 'it:0.95 is:0.95 not:0.97 easy:0.95')).toBe('it is not easy')
    expect(merged('it is not:0.97 easy', 'it is easy')).toBe('it is not easy')
    // The revision adds a word it was unsure of: the finals stand.
    expect(merged('it is easy', 'it:0.9 is:0.6 um:0.1 easy:0.6')).toBe('it is easy')
  })

  it('the revision wins ties, and wins outright over finals with nothing in common', () => {
    expect(merged('hello', 'yellow')).toBe('yellow')
    expect(merged('a b c', '')).toBe('a b c')
    expect(textOfWords(mergeRevision([], words('new words')))).toBe('new words')
  })
})
