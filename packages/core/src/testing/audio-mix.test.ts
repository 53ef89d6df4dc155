import { describe, expect, it } from 'vitest'
import { composeUtterances, mixAtSnr, overTelephone, pinkNoise, speechRms } from './audio-mix.js'
import type { LoadedSpeechFixture } from './fixtures.js'

const fixture = (seconds: number): LoadedSpeechFixture => {
  const audio = new Float32Array(Math.round(seconds * 16_000))
  for (let i = 2400; i < audio.length - 2400; i++) audio[i] = 0.5 * Math.sin(i / 3)
  return {
    name: 'x',
    language: 'en',
    text: 'x',
    durationSeconds: seconds,
    speechStart: 0.15,
    speechEnd: seconds - 0.15,
    audio,
  }
}

describe('VAD test audio', () => {
  it('places utterances with the silences asked for, and knows where speech is', () => {
    const { audio, utterances } = composeUtterances([fixture(1), fixture(2), fixture(1)], [0.3, 2], {
      leadSeconds: 1,
    })
    expect(utterances[0]!.start).toBeCloseTo(1, 3)
    expect(utterances[1]!.start - utterances[0]!.end).toBeCloseTo(0.3, 3)
    expect(utterances[2]!.start - utterances[1]!.end).toBeCloseTo(2, 3)
    expect(audio.length / 16_000).toBeCloseTo(utterances[2]!.end + 1, 2)
    // silence between, sound inside
    const at = (t: number) => Math.abs(audio[Math.round(t * 16_000)]!)
    expect(at(utterances[1]!.start - 0.1)).toBe(0)
    expect(speechRms(audio, [utterances[1]!])).toBeGreaterThan(0.3)
  })

  it('mixes noise at the asked SNR', () => {
    const { audio, utterances } = composeUtterances([fixture(2)], [])
    const { mixed, noise } = mixAtSnr(audio, 20, { regions: utterances })
    const snr = 20 * Math.log10(speechRms(audio, utterances) / speechRms(noise))
    expect(snr).toBeCloseTo(20, 1)
    expect(mixed.length).toBe(audio.length)
    expect(speechRms(pinkNoise(16_000, 7))).toBeCloseTo(1, 3)
  })

  it('carries a clip over a telephone line: a 1 kHz tone stays, in place, and a 6 kHz one is gone', () => {
    const tone = (hz: number) =>
      Float32Array.from({ length: 16_000 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / 16_000))
    const low = overTelephone({ audio: tone(1000), name: 'low' })
    expect(low.name).toBe('low')
    expect(low.audio.length).toBe(16_000)
    const mid = low.audio.subarray(4000, 12_000)
    expect(speechRms(mid)).toBeCloseTo(Math.SQRT1_2, 1)
    // In phase with the original: no delay.
    let dot = 0
    for (let i = 4000; i < 12_000; i++)
      dot += (low.audio[i] as number) * Math.sin((2 * Math.PI * 1000 * i) / 16_000)
    expect(dot / 8000).toBeGreaterThan(0.45)
    expect(speechRms(overTelephone({ audio: tone(6000) }).audio.subarray(4000, 12_000))).toBeLessThan(0.01)
  })
})
