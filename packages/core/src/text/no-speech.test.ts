import { describe, expect, it } from 'vitest'
import { WsError } from '../errors.js'
import {
  isNonSpeech,
  noSpeechRuleAt,
  validateNoSpeechRule,
  WHISPER_NO_SPEECH_RULE,
  withoutNonSpeech,
} from './no-speech.js'

const rule = WHISPER_NO_SPEECH_RULE

describe('the no-speech rule', () => {
  it('drops a segment rated no speech whose words are unsure, as Whisper does', () => {
    // tiny.en over 15 s of digital silence: "you" at no-speech 0.95, log-probability -1.41.
    expect(isNonSpeech({ text: 'you', noSpeechProb: 0.948, avgLogprob: -1.41 }, rule)).toBe(true)
  })

  it('keeps sure words in a window rated no speech, and unsure words in one rated speech', () => {
    expect(isNonSpeech({ text: 'Thank you.', noSpeechProb: 0.9, avgLogprob: -0.3 }, rule)).toBe(false)
    expect(isNonSpeech({ text: 'Mmm.', noSpeechProb: 0.48, avgLogprob: -1.9 }, rule)).toBe(false)
    // At the thresholds themselves: kept (both comparisons are strict).
    expect(isNonSpeech({ text: 'you', noSpeechProb: 0.6, avgLogprob: -2 }, rule)).toBe(false)
    expect(isNonSpeech({ text: 'you', noSpeechProb: 0.9, avgLogprob: -1 }, rule)).toBe(false)
  })

  it('drops text with no word in any script, and keeps words of any script', () => {
    for (const text of ['♪♪', '.', '…', ' - ', '♪ ♪ ♪'])
      expect(isNonSpeech({ text, noSpeechProb: 0, avgLogprob: 0 }, rule), text).toBe(true)
    for (const text of ['1990', '你好', 'ok', 'Ä'])
      expect(isNonSpeech({ text, noSpeechProb: 0, avgLogprob: 0 }, rule), text).toBe(false)
    expect(isNonSpeech({ text: '' }, rule)).toBe(true)
  })

  it('keeps a segment whose engine gives no scores, and everything with the rule off', () => {
    expect(isNonSpeech({ text: 'you' }, rule)).toBe(false)
    expect(isNonSpeech({ text: '♪♪', noSpeechProb: 1, avgLogprob: -5 }, false)).toBe(false)
  })

  it('is at least 0.6 at a reduced window, where speech rates higher as no speech', () => {
    expect(noSpeechRuleAt(rule, false)).toBe(rule)
    expect(noSpeechRuleAt({ noSpeechThreshold: 0.4, logprobThreshold: -1 }, true)).toEqual({
      noSpeechThreshold: 0.6,
      logprobThreshold: -1,
    })
    expect(noSpeechRuleAt({ noSpeechThreshold: 0.8, logprobThreshold: -1 }, true)).toMatchObject({
      noSpeechThreshold: 0.8,
    })
    expect(noSpeechRuleAt(false, true)).toBe(false)
  })

  it('filters a list in order', () => {
    const segments = [
      { text: 'Hello.', noSpeechProb: 0.01, avgLogprob: -0.2 },
      { text: '♪♪', noSpeechProb: 0.2, avgLogprob: -0.1 },
      { text: 'you', noSpeechProb: 0.95, avgLogprob: -1.4 },
      { text: 'Goodbye.', noSpeechProb: 0.01, avgLogprob: -0.3 },
    ]
    expect(withoutNonSpeech(segments, rule).map((s) => s.text)).toEqual(['Hello.', 'Goodbye.'])
    expect(withoutNonSpeech(segments, false)).toHaveLength(4)
  })

  it('refuses thresholds out of range with invalid_config', () => {
    const bad = (r: unknown) => () => validateNoSpeechRule(r as typeof rule, 'Test')
    expect(bad({ noSpeechThreshold: 1.5, logprobThreshold: -1 })).toThrow(WsError)
    expect(bad({ noSpeechThreshold: 0.6, logprobThreshold: 0.5 })).toThrow(/logprobThreshold/)
    expect(bad({ noSpeechThreshold: Number.NaN, logprobThreshold: -1 })).toThrow(/noSpeechThreshold/)
    expect(bad(null)).toThrow(/must be false or/)
    expect(bad(false)).not.toThrow()
    expect(bad({ noSpeechThreshold: 0, logprobThreshold: -10 })).not.toThrow()
  })
})
