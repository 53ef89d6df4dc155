import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { readWav, readWavMono, writeWav } from './wav.js'

function expectInvalid(bytes: Uint8Array, fragment: string) {
  try {
    readWav(bytes)
  } catch (err) {
    expect(isWsError(err, 'invalid_wav')).toBe(true)
    expect((err as Error).message).toContain(fragment)
    return
  }
  expect.unreachable('readWav accepted a malformed file')
}

const ramp = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) / 600)

describe('WAV', () => {
  it('round-trips PCM16 and float32', () => {
    const pcm = readWav(writeWav(ramp, 16_000))
    expect(pcm.sampleRate).toBe(16_000)
    expect(pcm.format).toEqual({ encoding: 'pcm', bitsPerSample: 16 })
    pcm.channels[0]!.forEach((s, i) => {
      expect(s).toBeCloseTo(ramp[i]!, 4)
    })
    const float = readWav(writeWav(ramp, 44_100, { encoding: 'float32' }))
    expect(float.channels[0]).toEqual(ramp)
  })

  it('reads stereo and mixes it down', () => {
    const left = new Float32Array([0.5, 0.5, 0.5])
    const right = new Float32Array([-0.5, 0, 0.5])
    const { samples } = readWavMono(writeWav([left, right], 8000, { encoding: 'float32' }))
    expect(Array.from(samples)).toEqual([0, 0.25, 0.5])
  })

  it('reads 8-bit, 24-bit and μ-law data, and skips unknown chunks', () => {
    const build = (format: number, bits: number, data: number[], extra = '') => {
      const extraBytes = extra ? [...extra].map((c) => c.charCodeAt(0)) : []
      const body = [
        ...'WAVE'.split('').map((c) => c.charCodeAt(0)),
        ...extraBytes,
        ...'fmt '.split('').map((c) => c.charCodeAt(0)),
        16,
        0,
        0,
        0,
        format,
        0,
        1,
        0,
        0x40,
        0x1f,
        0,
        0,
        0,
        0,
        0,
        0,
        bits / 8,
        0,
        bits,
        0,
        ...'data'.split('').map((c) => c.charCodeAt(0)),
        data.length,
        0,
        0,
        0,
        ...data,
      ]
      const size = body.length
      return new Uint8Array([82, 73, 70, 70, size & 255, size >> 8, 0, 0, ...body])
    }
    expect(Array.from(readWav(build(1, 8, [128, 255, 0])).channels[0]!)).toEqual([0, 127 / 128, -1])
    const s24 = readWav(build(1, 24, [0, 0, 0x40, 0, 0, 0xc0])).channels[0]!
    expect(Array.from(s24)).toEqual([0.5, -0.5])
    const mu = readWav(build(7, 8, [0xff, 0x00, 0x80])).channels[0]!
    expect(mu[0]).toBe(0)
    expect(mu[1]).toBeCloseTo(-32124 / 32768, 6)
    expect(mu[2]).toBeCloseTo(32124 / 32768, 6)
    const junk = `LIST${String.fromCharCode(4, 0, 0, 0)}abcd`
    expect(readWav(build(1, 8, [128], junk)).channels[0]!.length).toBe(1)
  })

  it('gives typed errors for malformed and truncated files', () => {
    const good = writeWav(ramp, 16_000)
    expectInvalid(new Uint8Array(0), 'too short')
    expectInvalid(new TextEncoder().encode('ID3\u0004 this is an mp3 file'), 'not a RIFF file')
    const notWave = good.slice()
    notWave.set(new TextEncoder().encode('AVI '), 8)
    expectInvalid(notWave, 'not of type WAVE')
    expectInvalid(good.slice(0, good.length - 1), 'truncated')
    expectInvalid(good.slice(0, 30), 'truncated fmt chunk')
    expectInvalid(good.slice(0, 36), 'no data chunk')
    const adpcm = good.slice()
    adpcm[20] = 2
    expectInvalid(adpcm, 'unsupported format tag 2')
    const badAlign = good.slice()
    badAlign[32] = 3
    expectInvalid(badAlign, 'block align')
    const noFmt = good.slice()
    noFmt.set(new TextEncoder().encode('junk'), 12)
    expectInvalid(noFmt, 'data chunk comes before the fmt chunk')
    const nan = writeWav(new Float32Array([0, Number.NaN]), 16_000, { encoding: 'float32' })
    expectInvalid(nan, 'not finite')
  })
})
