import { describe, expect, it } from 'vitest'
import { encoderWindow, unsureFinal } from './encoder-window.js'

const SR = 16_000
const base = { audioCtx: 'auto', finalWindow: 'auto', minFinalWindowMs: 15_000 } as const

describe('encoderWindow', () => {
  it('gives a free final at least 15 s, a busy one the fitted window, a file the full one', () => {
    expect(encoderWindow({ ...base, samples: 3 * SR, live: true })).toEqual({ audioCtx: 750, half: true })
    // 20 s of audio: fitted (1000 + 128) is over the floor
    expect(encoderWindow({ ...base, samples: 20 * SR, live: true })).toEqual({ audioCtx: 1128, half: true })
    // past 27.4 s the fitted window is the full one
    expect(encoderWindow({ ...base, samples: 28 * SR, live: true })).toEqual({ audioCtx: 0, half: false })
    expect(encoderWindow({ ...base, samples: 3 * SR, live: true, busy: true })).toEqual({
      audioCtx: 278,
      half: false,
    })
    expect(encoderWindow({ ...base, samples: 3 * SR, preview: true })).toEqual({ audioCtx: 214, half: false })
    expect(encoderWindow({ ...base, samples: 3 * SR })).toEqual({ audioCtx: 0, half: false })
  })

  it('follows minFinalWindowMs, finalWindow and a fixed audioCtx', () => {
    const final = { samples: 3 * SR, live: true }
    expect(encoderWindow({ ...base, ...final, minFinalWindowMs: 30_000 })).toEqual({
      audioCtx: 0,
      half: false,
    })
    expect(encoderWindow({ ...base, ...final, minFinalWindowMs: 0 })).toEqual({ audioCtx: 278, half: true })
    expect(encoderWindow({ ...base, ...final, finalWindow: 'full' })).toEqual({ audioCtx: 0, half: false })
    expect(encoderWindow({ ...base, ...final, finalWindow: 'fitted' })).toEqual({
      audioCtx: 278,
      half: false,
    })
    expect(encoderWindow({ ...base, ...final, audioCtx: 'full' })).toEqual({ audioCtx: 0, half: false })
    expect(encoderWindow({ ...base, ...final, audioCtx: 500 })).toEqual({ audioCtx: 500, half: false })
  })
})

describe('unsureFinal', () => {
  const seg = (text: string, noSpeechProb: number, avgLogprob: number) => ({ text, noSpeechProb, avgLogprob })
  it('sends a final back when a worded segment may be no speech, or is unlikely on the shortened window', () => {
    expect(unsureFinal([seg('Press star to cancel.', 0.02, -0.2)], true)).toBe(false)
    expect(unsureFinal([seg('www.example.com for more information.', 0.65, -0.5)], false)).toBe(true)
    expect(unsureFinal([seg('the', 0.13, -3.4)], true)).toBe(true)
    expect(unsureFinal([seg('the', 0.13, -3.4)], false)).toBe(false)
    // no word: the no-speech rule drops it anyway
    expect(unsureFinal([seg('♪♪', 0.9, -2)], true)).toBe(false)
    expect(unsureFinal([], true)).toBe(false)
    // A sentence of the prompt said again over noise goes again, however sure; a person's,
    // rated speech, does not.
    const prompt = 'Please enter your password followed by the pound key. The pound key is the pound key.'
    expect(unsureFinal([seg('The pound key is the pound key.', 0.07, -0.45)], false, prompt)).toBe(true)
    expect(unsureFinal([seg('The pound key is the pound key.', 0.07, -0.45)], false)).toBe(false)
    expect(unsureFinal([seg('The pound key is the pound key.', 0.025, -0.45)], false, prompt)).toBe(false)
    expect(unsureFinal([seg('The pound key.', 0.2, -0.45)], false, prompt)).toBe(true)
    expect(unsureFinal([seg('Pound key.', 0.2, -0.45)], false, prompt)).toBe(false)
  })
})
