import { describe, expect, it } from 'vitest'
import { SECONDS_PER_LETTER, type TimedToken, wordsFromTokens } from './results.js'

// Tokens as whisper.cpp gave them for "That agent is already logged on." (tiny.en, a clip of
// real speech from 0.07 s): each DTW time is where its token ends.
const tok = (text: string, dtwMs: number): TimedToken => ({ text, p: 0.9, dtwMs, startMs: -1 })
const tokens = [
  tok('[_BEG_]', -1),
  tok(' That', 520),
  tok(' agent', 860),
  tok(' is', 1200),
  tok(' al', 1400),
  tok('ready', 1500),
  tok(' on', 2240),
  tok('.', 2440),
  tok('[_TT_114]', -1),
]
const clamp = (ms: number) => Math.max(0, Math.min(5.5, ms / 1000))

describe('wordsFromTokens', () => {
  const words = wordsFromTokens(tokens, clamp, { start: 0, end: 2.28 })
  const times = words.map((w) => [w.text, w.start, w.end])

  it('ends each word with its last token and starts it where the token before ends', () => {
    expect(times.slice(1)).toEqual([
      ['agent', 0.52, 0.86],
      ['is', 0.86, 1.2],
      ['already', 1.2, 1.5],
      ['on.', 1.5, 2.24], // the full stop, aligned over the pause, is not the word's end
    ])
  })

  it('starts a segment’s first word a time per letter before its end, never before the segment', () => {
    expect(words[0]?.start).toBeCloseTo(0.52 - 4 * SECONDS_PER_LETTER, 9)
    const late = wordsFromTokens(tokens, clamp, { start: 0.4, end: 2.28 })
    expect(late[0]?.start).toBe(0.4)
  })

  it('keeps probabilities and never gives a word a negative length', () => {
    expect(words.every((w) => w.probability === 0.9 && w.end >= w.start)).toBe(true)
    const jitter = wordsFromTokens([tok(' a', 500), tok(' b', 480)], clamp, { start: 0, end: 1 })
    expect(jitter.map((w) => w.end - w.start).every((d) => d >= 0)).toBe(true)
  })
})
