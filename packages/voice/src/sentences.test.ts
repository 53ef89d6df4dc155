import { describe, expect, it } from 'vitest'
import { SentenceSplitter } from './sentences.js'

/** The sentences of `text` streamed in pieces of `size` characters. */
function streamed(text: string, size: number, minChars?: number): string[] {
  const s = new SentenceSplitter(minChars === undefined ? {} : { minChars })
  const out: string[] = []
  for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)))
  return [...out, ...s.flush()]
}

describe('SentenceSplitter', () => {
  const text =
    'The sky is blue because of Rayleigh scattering. Is that clear? "Yes!" she said.\nShort. And one more thing'

  it('gives each sentence once it ends, whatever the size of the streamed pieces', () => {
    const expected = [
      'The sky is blue because of Rayleigh scattering.',
      'Is that clear?',
      '"Yes!" she said.',
      'Short. And one more thing',
    ]
    for (const size of [1, 3, 7, 1000]) expect(streamed(text, size)).toEqual(expected)
  })

  it('keeps a sentence until its end is seen: a full stop at the end of a piece is not yet an end', () => {
    const s = new SentenceSplitter()
    expect(s.push('It costs 3.')).toEqual([])
    expect(s.push('50 dollars today. Then')).toEqual(['It costs 3.50 dollars today.'])
    expect(s.flush()).toEqual(['Then'])
    expect(s.flush()).toEqual([])
  })

  it('joins text shorter than minChars to the next sentence, and refuses a bad minChars', () => {
    expect(streamed('Dr. Smith is in. Ok.', 4, 5)).toEqual(['Dr. Smith is in.', 'Ok.'])
    expect(() => new SentenceSplitter({ minChars: 0 })).toThrow(RangeError)
  })
})
