import { describe, expect, it } from 'vitest'
import { doubledTail, findRepetitionRun } from './repetition.js'
import { corpusWordErrorRate, wordErrorRate } from './wer.js'
import { dropBareMarks, segmentsFromWords, tailText, withoutWords, wordsOf } from './words.js'

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions on normalised words', () => {
    expect(wordErrorRate('Hello, world!', 'hello world').wer).toBe(0)
    expect(wordErrorRate('a b c d', 'a x c d e')).toMatchObject({
      substitutions: 1,
      deletions: 0,
      insertions: 1,
      wer: 0.5,
    })
    expect(wordErrorRate('a b c', 'a c')).toMatchObject({ substitutions: 0, deletions: 1, insertions: 0 })
    expect(wordErrorRate('the cat sat on the mat', 'the cat sit on mat today').wer).toBeCloseTo(0.5, 9)
    expect(wordErrorRate('', '').wer).toBe(0)
    expect(wordErrorRate('', 'noise').wer).toBe(1)
    expect(
      corpusWordErrorRate([
        { reference: 'a b', hypothesis: 'a b' },
        { reference: 'c d e f', hypothesis: 'c' },
      ]),
    ).toBeCloseTo(0.5, 9)
  })
})

describe('repetition', () => {
  it('finds back-to-back repeated n-grams, not ordinary speech', () => {
    expect(findRepetitionRun('thank you thank you thank you'.split(' '))).toEqual({
      start: 0,
      ngram: 2,
      repeats: 3,
    })
    expect(findRepetitionRun('I said no, no, no.'.split(' '))).toBeUndefined()
    expect(findRepetitionRun('go go go go now'.split(' '))).toMatchObject({ start: 0, ngram: 1, repeats: 4 })
    expect(findRepetitionRun('the cat and the dog and the bird'.split(' '))).toBeUndefined()
  })
})

describe('words', () => {
  it('spreads a segment without word times over its words', () => {
    const words = wordsOf([{ start: 1, end: 2, text: 'ab abcd ab' }])
    expect(words.map((w) => [w.text, w.start, w.end])).toEqual([
      ['ab', 1, 1.25],
      ['abcd', 1.25, 1.75],
      ['ab', 1.75, 2],
    ])
  })

  it('groups words into sentences and keeps a tail of text at a word boundary', () => {
    const segs = segmentsFromWords([
      { start: 0, end: 0.5, text: 'Hi.' },
      { start: 0.6, end: 1, text: 'How' },
      { start: 1, end: 1.4, text: 'are' },
      { start: 3, end: 3.3, text: 'you' },
    ])
    expect(segs.map((s) => s.text)).toEqual(['Hi.', 'How are', 'you'])
    expect(tailText('one two three four', 11)).toBe('three four')
  })
})

describe('doubledTail', () => {
  it('finds a phrase of three or more words said twice at the end, not once or a shorter echo', () => {
    const words = (t: string) => t.split(' ')
    expect(doubledTail(words('Call forward on busy. Call forward on busy.'))).toBe(4)
    expect(doubledTail(words('press 1 ten of clubs 10 of clubs'))).toBeUndefined() // "ten" ≠ "10" here: words as written
    expect(doubledTail(words('ten of clubs ten of clubs'))).toBe(3)
    expect(doubledTail(words('no no'))).toBeUndefined()
    expect(doubledTail(words('I said it, I said it'))).toBe(3)
    expect(doubledTail(words('the conference is now muted'))).toBeUndefined()
    expect(doubledTail([])).toBeUndefined()
  })
})

describe('dropBareMarks', () => {
  it('drops words without a letter or digit, rebuilds the text, and drops segments left empty', () => {
    const w = (text: string, start: number) => ({ text, start, end: start + 0.2, probability: 0.9 })
    const out = dropBareMarks([
      {
        start: 0,
        end: 2,
        text: 'The leader left. . .',
        words: [w('The', 0), w('leader', 0.3), w('left.', 0.6), w('.', 1), w('.', 1.2)],
      },
      { start: 2, end: 2.1, text: '.', words: [w('.', 2)] },
      { start: 3, end: 4, text: '…' },
      { start: 4, end: 5, text: 'Press 4.' },
      { start: 5, end: 6, text: 'No words listed.', words: [] },
    ])
    expect(out.map((s) => s.text)).toEqual(['The leader left.', 'Press 4.', 'No words listed.'])
    expect(out[0]!.words!.map((x) => x.text)).toEqual(['The', 'leader', 'left.'])
  })
})

describe('withoutWords', () => {
  it('leaves out the word lists unless asked to keep them, and changes nothing else', () => {
    const seg = {
      start: 1,
      end: 2,
      text: 'Hi there',
      words: [{ text: 'Hi', start: 1, end: 1.4, probability: 0.8 }],
    }
    expect(withoutWords([seg])).toEqual([{ start: 1, end: 2, text: 'Hi there' }])
    expect(withoutWords([seg], true)).toEqual([seg])
    expect(seg.words).toHaveLength(1)
  })
})
