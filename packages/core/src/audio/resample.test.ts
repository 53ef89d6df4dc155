import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { Resampler, resample } from './resample.js'

function tone(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds))
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate)
  return out
}

/** Power of one frequency (Goertzel), normalised to amplitude². */
function powerAt(signal: Float32Array, hz: number, rate: number): number {
  const w = (2 * Math.PI * hz) / rate
  const coeff = 2 * Math.cos(w)
  let s1 = 0
  let s2 = 0
  for (let i = 0; i < signal.length; i++) {
    const s0 = signal[i]! + coeff * s1 - s2
    s2 = s1
    s1 = s0
  }
  return ((s1 * s1 + s2 * s2 - coeff * s1 * s2) * 4) / (signal.length * signal.length)
}

function rms(signal: Float32Array): number {
  let sum = 0
  for (const s of signal) sum += s * s
  return Math.sqrt(sum / signal.length)
}

/** The middle of a signal, away from the edges where the filter sees zeros. */
const middle = (s: Float32Array) => s.subarray(Math.floor(s.length * 0.1), Math.floor(s.length * 0.9))

describe('resample', () => {
  for (const from of [48_000, 44_100]) {
    it(`keeps a 1 kHz tone at 1 kHz from ${from} Hz`, () => {
      const out = middle(resample(tone(1000, from, 1), from, 16_000))
      const at1k = powerAt(out, 1000, 16_000)
      // The tone's amplitude survives (0.5² = 0.25) ...
      expect(Math.sqrt(at1k)).toBeGreaterThan(0.5 * 0.97)
      expect(Math.sqrt(at1k)).toBeLessThan(0.5 * 1.03)
      // ... and no other frequency carries it.
      for (const other of [500, 900, 1100, 2000, 4000, 6000]) {
        expect(powerAt(out, other, 16_000)).toBeLessThan(at1k * 1e-3)
      }
    })

    it(`attenuates a 10 kHz tone by at least 40 dB from ${from} Hz`, () => {
      const input = tone(10_000, from, 1)
      const out = middle(resample(input, from, 16_000))
      const attenuationDb = 20 * Math.log10(rms(middle(input)) / rms(out))
      expect(attenuationDb).toBeGreaterThanOrEqual(40)
    })
  }

  it('aliases far less than linear interpolation would', () => {
    // Linear interpolation folds 10 kHz at 48 kHz into 6 kHz at 16 kHz.
    const out = middle(resample(tone(10_000, 48_000, 1), 48_000, 16_000))
    expect(powerAt(out, 6000, 16_000)).toBeLessThan(1e-8)
  })

  it('gives ceil(n·to/from) samples and the same result in any chunking', () => {
    const input = tone(440, 44_100, 0.73)
    const whole = resample(input, 44_100, 16_000)
    expect(whole.length).toBe(Math.ceil((input.length * 16_000) / 44_100))
    const r = new Resampler({ fromRate: 44_100 })
    const parts: Float32Array[] = []
    let offset = 0
    for (const size of [1, 7, 100, 441, 3, 5000, 2, 99_999]) {
      parts.push(r.process(input.subarray(offset, offset + size)))
      offset += size
    }
    parts.push(r.flush())
    const chunked = Float32Array.from(parts.flatMap((p) => Array.from(p)))
    expect(chunked.length).toBe(whole.length)
    for (let i = 0; i < whole.length; i++) expect(chunked[i]).toBeCloseTo(whole[i]!, 6)
  })

  it('upsamples 8 kHz without imaging above 4 kHz', () => {
    const out = middle(resample(tone(1000, 8000, 1), 8000, 16_000))
    expect(Math.sqrt(powerAt(out, 1000, 16_000))).toBeCloseTo(0.5, 1)
    expect(powerAt(out, 7000, 16_000)).toBeLessThan(1e-6) // the image of 1 kHz
  })

  it('passes 16 kHz through unchanged, and keeps time aligned', () => {
    const input = tone(300, 16_000, 0.1)
    expect(resample(input, 16_000, 16_000)).toEqual(input)
    // An impulse at 0.5 s comes out at 0.5 s.
    const impulse = new Float32Array(48_000)
    impulse[24_000] = 1
    const out = resample(impulse, 48_000, 16_000)
    let peak = 0
    for (let i = 1; i < out.length; i++) if (Math.abs(out[i]!) > Math.abs(out[peak]!)) peak = i
    expect(peak).toBe(8000)
  })

  it('rejects invalid rates with a typed error', () => {
    for (const rate of [0, -1, 8000.5, Number.NaN, 10_000_000]) {
      try {
        new Resampler({ fromRate: rate })
        expect.unreachable()
      } catch (err) {
        expect(isWsError(err, 'unsupported_sample_rate')).toBe(true)
      }
    }
  })
})
