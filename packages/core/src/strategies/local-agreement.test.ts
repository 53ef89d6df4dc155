import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { findRepetitionRun } from '../text/repetition.js'
import type { Segment } from '../types.js'
import { LocalAgreement } from './local-agreement.js'

/** A hypothesis: words evenly 0.5 s apart from `t0`, in one segment (times relative to the request). */
function hyp(text: string, t0 = 0, step = 0.5): Segment[] {
  const words = text.split(' ').map((t, i) => ({ start: t0 + i * step, end: t0 + i * step + 0.4, text: t }))
  return [{ start: t0, end: words[words.length - 1]!.end, text, words }]
}

const texts = (words: readonly { text: string }[]) => words.map((w) => w.text).join(' ')
const second = new Float32Array(16_000)

describe('LocalAgreement', () => {
  it('commits the longest common prefix of the last two hypotheses, and never un-commits', () => {
    const la = new LocalAgreement()
    la.insertAudio(second)
    let r = la.request()
    expect(texts(la.accept(hyp('the cat'), r).committed)).toBe('') // nothing to agree with yet
    la.insertAudio(second)
    r = la.request()
    const step2 = la.accept(hyp('the cat sat on'), r)
    expect(texts(step2.committed)).toBe('the cat')
    expect(texts(step2.tentative)).toBe('sat on')
    la.insertAudio(second)
    r = la.request()
    // The model changes its mind about committed words: they stay committed. Of the new
    // words (those after the committed time), the prefix agreeing with "sat on" commits.
    const step3 = la.accept(hyp('a dog sat in a hat'), r)
    expect(texts(step3.committed)).toBe('sat')
    expect(texts(la.committed)).toBe('the cat sat')
    la.insertAudio(second)
    r = la.request()
    const step4 = la.accept(hyp('the cat sat in a hat today'), r)
    expect(texts(step4.committed)).toBe('in a hat')
    expect(texts(step4.tentative)).toBe('today')
    expect(texts(la.committed)).toBe('the cat sat in a hat')
  })

  it('compares words without case or punctuation', () => {
    const la = new LocalAgreement()
    la.insertAudio(second)
    la.accept(hyp('Hello, world'), la.request())
    const u = la.accept(hyp('hello world again'), la.request())
    expect(texts(u.committed)).toBe('hello world')
  })

  it('needs n hypotheses to agree with n = 3', () => {
    const la = new LocalAgreement({ n: 3 })
    la.insertAudio(second)
    expect(la.accept(hyp('one two'), la.request()).committed).toHaveLength(0)
    expect(la.accept(hyp('one two three'), la.request()).committed).toHaveLength(0)
    expect(texts(la.accept(hyp('one two four'), la.request()).committed)).toBe('one two')
    expect(texts(la.accept(hyp('one two four five'), la.request()).committed)).toBe('')
    expect(texts(la.accept(hyp('one two four five'), la.request()).committed)).toBe('four')
  })

  it('drops words before the last committed time and n-grams repeating the committed tail', () => {
    const committedABC = () => {
      const la = new LocalAgreement()
      la.insertAudio(second)
      la.accept(hyp('alpha beta gamma'), la.request())
      la.accept(hyp('alpha beta gamma delta'), la.request()) // commits alpha beta gamma (ends at 1.4 s)
      expect(texts(la.committed)).toBe('alpha beta gamma')
      return la
    }
    // "gamma" at 1.0 s starts before 1.4 − 0.1 s: dropped; "delta" agrees and commits.
    const byTime = committedABC()
    const a = byTime.accept(hyp('gamma delta epsilon', 1.0, 0.5), byTime.request())
    expect(texts(a.committed)).toBe('delta')
    expect(texts(a.tentative)).toBe('epsilon')
    // The model re-hears "beta gamma" right after the committed end: that bigram is removed,
    // so "delta" agrees and commits, and nothing is committed twice.
    const byNgram = committedABC()
    const b = byNgram.accept(hyp('beta gamma delta', 1.45, 0.5), byNgram.request())
    expect(texts(b.committed)).toBe('delta')
    expect(texts(byNgram.committed)).toBe('alpha beta gamma delta')
  })

  it('trims the buffer at a committed segment end once it is past the bound, and hard at the limit', () => {
    const la = new LocalAgreement({ trimAfterSeconds: 3, hardLimitSeconds: 6 })
    for (let i = 0; i < 4; i++) la.insertAudio(second)
    const two: Segment[] = [...hyp('one two three', 0), ...hyp('four five six', 2)]
    la.accept(two, la.request())
    expect(la.bufferOffsetSeconds).toBe(0)
    la.accept(two, la.request()) // commits all six; the buffer (4 s) is past 3 s
    expect(texts(la.committed)).toBe('one two three four five six')
    // cut at the end of the first segment (1.4 s), not the last one
    expect(la.bufferOffsetSeconds).toBeCloseTo(1.4, 3)
    expect(la.bufferSeconds).toBeCloseTo(2.6, 3)
    // committed text that left the buffer becomes the prompt
    expect(la.prompt()).toBe('one two three')

    // With nothing committed, the hard limit still bounds the buffer.
    const hard = new LocalAgreement({ trimAfterSeconds: 3, hardLimitSeconds: 6 })
    for (let i = 0; i < 7; i++) hard.insertAudio(second)
    const u = hard.accept(hyp('only one hypothesis here', 0, 1.5), hard.request())
    // Forced by the limit, and reported as committed by this step.
    expect(texts(u.committed)).toBe('only one hypothesis here')
    expect(u.tentative).toHaveLength(0)
    expect(hard.bufferSeconds).toBeLessThanOrEqual(6)
    expect(texts(hard.committed)).toBe('only one hypothesis here')
  })

  it('bounds the prompt to 200 characters of committed text outside the buffer', () => {
    const la = new LocalAgreement({ trimAfterSeconds: 1, hardLimitSeconds: 30 })
    la.setContextText('x'.repeat(50))
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')
    for (let i = 0; i < 31; i++) la.insertAudio(second)
    la.accept(hyp(words, 0, 0.5), la.request())
    la.accept([...hyp(words, 0, 0.5), ...hyp('end', 30, 0.5)], la.request())
    expect(la.prompt().length).toBeLessThanOrEqual(200)
    expect(la.prompt().endsWith('word59')).toBe(true)
  })

  it('refuses a repetition loop: never commits it and never prompts with it', () => {
    const la = new LocalAgreement({ trimAfterSeconds: 1 })
    la.insertAudio(second)
    const loop = 'so thank you thank you thank you thank you'
    la.accept(hyp(loop), la.request())
    const u = la.accept(hyp(loop), la.request())
    expect(u.loopDetected).toBe(true)
    // Only the first occurrence of the repeated bigram is committed.
    expect(texts(la.committed)).toBe('so thank you')
    expect(findRepetitionRun(la.committed.map((w) => w.text))).toBeUndefined()
    // A loop that came in from outside (the context) stays out of the prompt too.
    const fed = new LocalAgreement()
    fed.setContextText('hello there the end the end the end the end')
    expect(fed.prompt()).toBe('hello there the end')
  })

  it('finish() returns the unconfirmed tail and keeps the committed text', () => {
    const la = new LocalAgreement()
    la.insertAudio(second)
    la.accept(hyp('one two'), la.request())
    la.accept(hyp('one two three'), la.request())
    expect(texts(la.finish())).toBe('three')
    expect(texts(la.committed)).toBe('one two three')
    expect(la.bufferSeconds).toBe(0)
  })

  it('validates its options', () => {
    for (const bad of [{ n: 1 }, { trimAfterSeconds: 0 }, { trimAfterSeconds: 20, hardLimitSeconds: 10 }]) {
      try {
        new LocalAgreement(bad)
        expect.unreachable()
      } catch (err) {
        expect(isWsError(err, 'invalid_config')).toBe(true)
      }
    }
  })
})
