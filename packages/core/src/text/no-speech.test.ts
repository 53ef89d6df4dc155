import { describe, expect, it } from 'vitest'
import { WsError } from '../errors.js'
import {
  echoesPrompt,
  hasSpokenWord,
  isDrawnOutSound,
  isNonSpeech,
  isSignOff,
  isVocalSound,
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
    // (A sign-off such as "Thank you." is the exception: see below.)
    expect(isNonSpeech({ text: 'Call forward on busy.', noSpeechProb: 0.9, avgLogprob: -0.3 }, rule)).toBe(
      false,
    )
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

  it("holds previews to the backend's own thresholds on any window, and drops what they rate over 0.8 as no speech", () => {
    const own = { noSpeechThreshold: 0.4, logprobThreshold: -0.8 }
    expect(noSpeechRuleAt(own, true, true)).toEqual({ ...own, sureNoSpeechThreshold: 0.8 })
    expect(noSpeechRuleAt(own, false, true)).toEqual({ ...own, sureNoSpeechThreshold: 0.8 })
    expect(noSpeechRuleAt(false, true, true)).toBe(false)
    const preview = noSpeechRuleAt(own, true, true) as typeof own
    // faster-whisper's previews over noise after speech, and whisper.cpp's sure "Beep Beep…".
    expect(
      isNonSpeech({ text: "I'm not a fan of the", noSpeechProb: 0.44, avgLogprob: -2.26 }, preview),
    ).toBe(true)
    expect(isNonSpeech({ text: 'Beep Beep Beep Beep', noSpeechProb: 0.92, avgLogprob: -0.3 }, preview)).toBe(
      true,
    )
    expect(isNonSpeech({ text: 'Password incorrect.', noSpeechProb: 0.32, avgLogprob: -0.74 }, preview)).toBe(
      false,
    )
    // A final at a reduced window keeps 0.6 and no sure threshold.
    const final = noSpeechRuleAt(own, true) as typeof own
    expect(isNonSpeech({ text: "I'm not a fan of the", noSpeechProb: 0.44, avgLogprob: -1.5 }, final)).toBe(
      false,
    )
    expect(isNonSpeech({ text: 'Beep Beep Beep Beep', noSpeechProb: 0.92, avgLogprob: -0.3 }, final)).toBe(
      false,
    )
  })

  it('drops sounds drawn out ("AHHHHH!", "T-T-T-T-") whatever their scores, and keeps real words', () => {
    // What tiny.en wrote over breathing, a crowd and a hiss after real speech, surely (no
    // speech 0.22–0.53, log-probability -0.5 to -0.8), in the finals, revisions and partials.
    for (const w of [
      'AHHHHHHHHHHHH!',
      'Aaaaaaaaa',
      'Mm-mmm-mmm-mmm',
      'T-T-T-T-T-T-',
      'S-S-S-S-S-',
      'Shhhh.',
      'Ооооо',
    ])
      expect(isDrawnOutSound(w), w).toBe(true)
    for (const w of [
      'Mmm.',
      'Hmm',
      'Shh!',
      'noon',
      'Schifffahrt',
      'Brennnessel',
      'www.example.com',
      '1000',
      'Aaa',
      'Pfft!',
    ])
      expect(isDrawnOutSound(w), w).toBe(false)
    expect(hasSpokenWord('AHHHHHH! Aaaaaa')).toBe(false)
    expect(hasSpokenWord('I said ahhhhh')).toBe(true)
    expect(isNonSpeech({ text: ' AHHHHHHHHHHHHHH!', noSpeechProb: 0.22, avgLogprob: -0.51 }, rule)).toBe(true)
    expect(isNonSpeech({ text: ' Aaaaaaaaaaa', noSpeechProb: 0.53, avgLogprob: -0.81 }, rule)).toBe(true)
    expect(isNonSpeech({ text: 'AHHHHHH', noSpeechProb: 0.2, avgLogprob: -0.5 }, false)).toBe(false)
  })

  it('drops a segment of vocal sounds only ("Pfft!", "Hmm.") where the window rates as no speech, however sure', () => {
    // tiny.en over noise after real speech, in the finals and revisions: no speech 0.54,
    // log-probability -0.45 (kept by Whisper's rule: the words were sure).
    const pfft = { text: ' Pfft!', noSpeechProb: 0.54, avgLogprob: -0.45 }
    const atFour = { ...rule, noSpeechThreshold: 0.4 }
    expect(isNonSpeech(pfft, atFour)).toBe(true)
    expect(isNonSpeech({ ...pfft, text: 'Hmm. Pfft! Shh...' }, atFour)).toBe(true)
    // Rated speech, a person's "Hmm." stays; and words beside the sounds keep the segment.
    expect(isNonSpeech({ ...pfft, noSpeechProb: 0.3 }, atFour)).toBe(false)
    expect(isNonSpeech({ ...pfft, text: 'Hmm, you are right.' }, atFour)).toBe(false)
    expect(isNonSpeech({ ...pfft, text: 'you' }, atFour)).toBe(false)
    expect(isNonSpeech({ ...pfft, text: 'Oh, hello.' }, atFour)).toBe(false)
    expect(isNonSpeech(pfft, false)).toBe(false)
    for (const w of ['Pfft!', 'hmm', 'Mm-hm', 'Uh,', 'SHH']) expect(isVocalSound(w), w).toBe(w !== 'Mm-hm')
    for (const w of ['you', 'oh', 'yeah', 'no', 'ha']) expect(isVocalSound(w), w).toBe(false)
  })

  it('drops a sign-off ("Thank you.", "Thanks for watching!") only where the model was unsure', () => {
    const atFour = { ...rule, noSpeechThreshold: 0.4 }
    // `base` over noise after real speech: sure words in a window rated as no speech, and
    // words under -1 in a window rated under the threshold.
    expect(isNonSpeech({ text: ' Thank you.', noSpeechProb: 0.91, avgLogprob: -0.96 }, atFour)).toBe(true)
    expect(isNonSpeech({ text: 'Thanks for watching!', noSpeechProb: 0.3, avgLogprob: -1.19 }, atFour)).toBe(
      true,
    )
    const outro = 'If you enjoyed this video, please subscribe to the channel and click the bell icon.'
    expect(isNonSpeech({ text: outro, noSpeechProb: 0.3, avgLogprob: -1.04 }, atFour)).toBe(true)
    // Said by a person (four real recordings: at most 0.12, -0.53 and above), they stay; so
    // do sure words in a window rated under the threshold, and other sentences.
    expect(isNonSpeech({ text: 'Thank you.', noSpeechProb: 0.12, avgLogprob: -1.3 }, atFour)).toBe(false)
    expect(isNonSpeech({ text: 'Thank you.', noSpeechProb: 0.35, avgLogprob: -0.5 }, atFour)).toBe(false)
    expect(
      isNonSpeech({ text: 'Thank you for your patience.', noSpeechProb: 0.9, avgLogprob: -0.9 }, atFour),
    ).toBe(false)
    expect(isNonSpeech({ text: 'Thank you.', noSpeechProb: 0.91, avgLogprob: -0.96 }, false)).toBe(false)
    for (const t of [
      'THANKS, EVERYONE.',
      'Thank you so much for watching!',
      "I'll see you next time.",
      'Like and subscribe!',
    ])
      expect(isSignOff(t), t).toBe(true)
    for (const t of ['Thank you for your patience.', 'Thanks', 'See you at five.', 'Goodbye.', ''])
      expect(isSignOff(t), t).toBe(t === 'Thanks')
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

  it('drops guesses (log-probability under -2) where the window rates over 0.15 as no speech', () => {
    // base over music at a reduced window, where the threshold is 0.6: "Music" at 0.25, -2.9.
    const reduced = noSpeechRuleAt(rule, true)
    expect(isNonSpeech({ text: 'Music', noSpeechProb: 0.25, avgLogprob: -2.9 }, reduced)).toBe(true)
    expect(isNonSpeech({ text: 'Hi.', noSpeechProb: 0.54, avgLogprob: -2.06 }, reduced)).toBe(true)
    // Unsure real speech stays: the lowest real final, and a preview rated as speech.
    expect(isNonSpeech({ text: 'Lopen.', noSpeechProb: 0.3, avgLogprob: -1.85 }, reduced)).toBe(false)
    expect(isNonSpeech({ text: 'Poh', noSpeechProb: 0.12, avgLogprob: -2.38 }, reduced)).toBe(false)
    expect(isNonSpeech({ text: 'Music', noSpeechProb: 0.25, avgLogprob: -2.9 }, false)).toBe(false)
  })

  it('drops a loop in a window rated no speech, however sure, and keeps speech said again', () => {
    // faster-whisper over 24.5 s of noise (a Realtime turn): one segment per repeat.
    const loop = Array.from({ length: 14 }, () => ({
      text: "I'm gonna go to the next one.",
      noSpeechProb: 0.79,
      avgLogprob: -0.33,
    }))
    expect(withoutNonSpeech(loop, rule)).toEqual([])
    expect(withoutNonSpeech([{ ...loop[0]!, text: loop.map((s) => s.text).join(' ') }], rule)).toEqual([])
    // Rated speech, the same repeats stay (a loop of the engine is not the guard's to judge),
    // and so do segments in speech beside a loop rated as no speech.
    const speech = loop.map((s) => ({ ...s, noSpeechProb: 0.05 }))
    expect(withoutNonSpeech(speech, rule)).toHaveLength(14)
    const mixed = [{ text: 'Call forward on busy.', noSpeechProb: 0.05, avgLogprob: -0.2 }, ...loop]
    expect(withoutNonSpeech(mixed, rule).map((s) => s.text)).toEqual(['Call forward on busy.'])
    // Said once in a window rated no speech, a sure sentence stays (the rule above decides).
    expect(withoutNonSpeech(loop.slice(0, 1), rule)).toHaveLength(1)
    expect(withoutNonSpeech(loop, false)).toHaveLength(14)
  })

  it('drops a sentence of the prompt said again in a window rated over 0.15 as no speech', () => {
    // `base` over noise after real speech, each utterance prompted with the finals before.
    const prompt = 'Please enter your password followed by the pound key. The pound key is the pound key.'
    const echo = { text: ' The pound key is the pound key.', noSpeechProb: 0.33, avgLogprob: -0.45 }
    expect(withoutNonSpeech([echo], rule, prompt)).toEqual([])
    // Said again by a person (real telephone prompts: rated at most 0.025), or not in the prompt,
    // or too short to tell, or without the prompt: kept.
    expect(withoutNonSpeech([{ ...echo, noSpeechProb: 0.02 }], rule, prompt)).toHaveLength(1)
    expect(withoutNonSpeech([{ ...echo, text: 'The star key.' }], rule, prompt)).toHaveLength(1)
    expect(withoutNonSpeech([{ ...echo, text: 'Pound key.' }], rule, prompt)).toHaveLength(1)
    expect(withoutNonSpeech([echo], rule)).toHaveLength(1)
    expect(withoutNonSpeech([echo], false, prompt)).toHaveLength(1)
    expect(echoesPrompt('the POUND key!', prompt)).toBe(true)
    expect(echoesPrompt('the key pound', prompt)).toBe(false)
  })

  it('refuses thresholds out of range with invalid_config', () => {
    const bad = (r: unknown) => () => validateNoSpeechRule(r as typeof rule, 'Test')
    expect(bad({ noSpeechThreshold: 1.5, logprobThreshold: -1 })).toThrow(WsError)
    expect(bad({ noSpeechThreshold: 0.6, logprobThreshold: 0.5 })).toThrow(/logprobThreshold/)
    expect(bad({ noSpeechThreshold: Number.NaN, logprobThreshold: -1 })).toThrow(/noSpeechThreshold/)
    expect(bad(null)).toThrow(/must be false or/)
    expect(bad(false)).not.toThrow()
    expect(bad({ noSpeechThreshold: 0, logprobThreshold: -10 })).not.toThrow()
    expect(bad({ noSpeechThreshold: 0.4, logprobThreshold: -1, sureNoSpeechThreshold: 2 })).toThrow(
      /sureNoSpeechThreshold/,
    )
    expect(bad({ noSpeechThreshold: 0.4, logprobThreshold: -1, sureNoSpeechThreshold: 0.9 })).not.toThrow()
  })
})
