import { fileURLToPath } from 'node:url'
import { isWsError } from '@ws/core'
import { loadSpeechFixtures, registerConformance, vadConformance, vadTestCorpus } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SileroVad } from './silero-vad.js'

// Real speech: the ten spoken sentences with silences of 0.3 to 2 s between them, clean and
// with pink noise at 20 dB SNR; and 10 s of silence and of that noise alone.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const corpus = vadTestCorpus(loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-')))
const { clean } = corpus

registerConformance(
  vadConformance({
    createVad: () => SileroVad.create(),
    speech: corpus.speech,
    nonSpeech: corpus.nonSpeech,
  }),
  { describe, it, beforeAll, afterAll },
)

describe('SileroVad', () => {
  it('reports the speech probability, high in speech and low in silence', async () => {
    const vad = await SileroVad.create()
    const n = vad.frameSamples
    expect([n, vad.contextSamples]).toEqual([512, 64])
    const u = clean.utterances[0]!
    const mid = Math.round(((u.start + u.end) / 2) * 16_000)
    const probs: number[] = []
    for (let i = mid - 10 * n; i < mid + 10 * n; i += n)
      probs.push(await vad.speechProbability(clean.audio.subarray(i, i + n)))
    expect(Math.max(...probs)).toBeGreaterThan(0.9)
    vad.reset()
    expect(await vad.speechProbability(new Float32Array(n))).toBeLessThan(0.1)
    await vad.close()
    await vad.close()
    expect(
      await vad.speechProbability(new Float32Array(n)).catch((e) => (isWsError(e) ? e.code : 'untyped')),
    ).toBe('closed')
  })

  it('refuses bad options with typed errors', async () => {
    const codes = []
    for (const options of [
      { sampleRate: 44_100 },
      { threshold: 1.5 },
      { threshold: 0.5, negativeThreshold: 0.7 },
      { modelPath: '/nope.onnx' },
    ]) {
      codes.push(await SileroVad.create(options).catch((e) => (isWsError(e) ? e.code : 'untyped')))
    }
    expect(codes).toEqual(['unsupported_sample_rate', 'invalid_config', 'invalid_config', 'model_not_found'])
  })
})
