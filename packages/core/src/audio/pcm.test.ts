import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { decodeAlaw, decodeMulaw, mulawByteToInt16 } from './g711.js'
import {
  decodePcm16le,
  decodePcmF32le,
  encodePcm16le,
  encodePcmF32le,
  float32ToInt16,
  int16ToFloat32,
} from './pcm.js'

describe('PCM', () => {
  it('converts PCM16 ⇄ float32 with clamping', () => {
    expect(Array.from(int16ToFloat32(new Int16Array([-32768, 0, 16384])))).toEqual([-1, 0, 0.5])
    expect(Array.from(float32ToInt16(new Float32Array([-2, -1, 0, 0.5, 1, 2, Number.NaN])))).toEqual([
      -32768, -32768, 0, 16384, 32767, 32767, 0,
    ])
  })

  it('decodes little-endian bytes at any byte offset', () => {
    const samples = new Float32Array([0.25, -0.5, 0.75])
    const bytes = encodePcm16le(samples)
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1)
    unaligned.set(bytes)
    expect(Array.from(decodePcm16le(unaligned))).toEqual(
      Array.from(float32ToInt16(samples)).map((s) => s / 32768),
    )
    const f32 = encodePcmF32le(samples)
    const unalignedF = new Uint8Array(f32.length + 3).subarray(3)
    unalignedF.set(f32)
    expect(decodePcmF32le(unalignedF)).toEqual(samples)
  })

  it('refuses partial samples and non-finite floats with typed errors', () => {
    const codes: string[] = []
    for (const f of [() => decodePcm16le(new Uint8Array(3)), () => decodePcmF32le(new Uint8Array(6))]) {
      try {
        f()
      } catch (err) {
        if (isWsError(err)) codes.push(err.code)
      }
    }
    try {
      decodePcmF32le(encodePcmF32le(new Float32Array([Number.POSITIVE_INFINITY])))
    } catch (err) {
      if (isWsError(err)) codes.push(err.code)
    }
    expect(codes).toEqual(['invalid_audio', 'invalid_audio', 'invalid_audio'])
  })
})

describe('G.711', () => {
  it('decodes μ-law like the reference table', () => {
    // Values from ITU-T G.711's decoding table (μ-law, 16-bit linear).
    expect(mulawByteToInt16(0x00)).toBe(-32124)
    expect(mulawByteToInt16(0x80)).toBe(32124)
    expect(mulawByteToInt16(0xff)).toBe(0)
    expect(mulawByteToInt16(0x7f)).toBe(0)
    expect(mulawByteToInt16(0xf0)).toBe(120)
    expect(mulawByteToInt16(0x70)).toBe(-120)
    expect(decodeMulaw(new Uint8Array([0x80]))[0]).toBeCloseTo(32124 / 32768, 6)
  })

  it('decodes A-law like the reference table', () => {
    const a = decodeAlaw(new Uint8Array([0xd5, 0x55, 0xaa, 0x2a]))
    expect(Math.round(a[0]! * 32768)).toBe(8)
    expect(Math.round(a[1]! * 32768)).toBe(-8)
    expect(Math.round(a[2]! * 32768)).toBe(32256)
    expect(Math.round(a[3]! * 32768)).toBe(-32256)
  })

  it('is monotonic over the positive μ-law codes', () => {
    const values = Array.from({ length: 128 }, (_, i) => mulawByteToInt16(0xff - i))
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!)
  })
})
