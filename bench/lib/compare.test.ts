import { describe, expect, it } from 'vitest'
import { compareRun, DEFAULT_COMPARE, parseCompare } from './compare.mjs'
import { corpus, harvardFixtures } from './corpus.mjs'

describe('the A/B part', () => {
  it('splits two flag sets and refuses anything else', () => {
    expect(parseCompare(DEFAULT_COMPARE)).toEqual([
      ['--revise-beam-size', '1'],
      ['--revise-beam-size', '5'],
    ])
    expect(parseCompare('|--beam-size 5')).toEqual([[], ['--beam-size', '5']])
    expect(() => parseCompare('--beam-size 5')).toThrow(/two flag sets/)
  })

  // Two servers per arm, A B B A, on two espeak sentences (9 s): it proves the part runs both
  // arms in real time and reports latency, CPU and both WERs per arm; it asserts no speed.
  it('runs both arms over real sockets and reports each', async () => {
    const c = corpus(harvardFixtures(), 2)
    const k = await compareRun('whispercpp', '--revise-beam-size 1|--revise-beam-size 3', [c])
    expect(k.A).toBe('--revise-beam-size 1')
    expect(k.B).toBe('--revise-beam-size 3')
    expect(k.inputs).toEqual([{ name: 'synthetic', audioSeconds: expect.any(Number) }])
    for (const arm of ['A', 'B'] as const) {
      // A final comes after the VAD's hangover (200 ms); the upper bound only catches a hang.
      expect(k.finalLatencyP50Ms[arm]).toBeGreaterThanOrEqual(200)
      expect(k.finalLatencyP50Ms[arm]).toBeLessThan(10_000)
      expect(k.serverCpuPerAudioSecond[arm]).toBeGreaterThan(0)
      // 16 words, one is 6 points: lost audio or a missing final would read far above this.
      expect(k.werFinals[arm]).toBeLessThanOrEqual(60)
      expect(k.werRevised[arm]).toBeLessThanOrEqual(60)
    }
    expect(k.finalLatencyRatio.low).toBeLessThanOrEqual(k.finalLatencyRatio.high)
  }, 240_000)
})
