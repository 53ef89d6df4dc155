import { describe, expect, it } from 'vitest'
import { writeWav } from '../audio/wav.js'
import { isWsError } from '../errors.js'
import { decodeAudio } from './decode-audio.js'

describe('decodeAudio', () => {
  it('reads WAV at any rate and channel count as 16 kHz mono', async () => {
    const tone = new Float32Array(44_100).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 44_100))
    const out = await decodeAudio(writeWav([tone, tone], 44_100))
    expect(Math.abs(out.length - 16_000)).toBeLessThanOrEqual(1)
    const rms = Math.sqrt(out.reduce((a, x) => a + x * x, 0) / out.length)
    expect(rms).toBeCloseTo(0.5 / Math.SQRT2, 1)
  })

  it('says ffmpeg is needed for other formats when it is not on the PATH', async () => {
    const path = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      const err = await decodeAudio(new TextEncoder().encode('ID3 an mp3, say')).catch((e: unknown) => e)
      expect(isWsError(err, 'invalid_audio')).toBe(true)
      expect((err as Error).message).toMatch(/ffmpeg/)
    } finally {
      process.env.PATH = path
    }
  })
})
