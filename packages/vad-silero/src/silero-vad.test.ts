import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
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
      { modelPath: fileURLToPath(new URL('../README.md', import.meta.url)) },
    ]) {
      codes.push(await SileroVad.create(options).catch((e) => (isWsError(e) ? e.code : 'untyped')))
    }
    expect(codes).toEqual([
      'unsupported_sample_rate',
      'invalid_config',
      'invalid_config',
      'model_not_found',
      'model_load_failed',
    ])
  })

  it('runs in a worker: VADs keep their own state, and an unclosed one does not hold the process', async () => {
    // Two VADs on the one worker, frames interleaved: each answers as it would alone.
    const u = clean.utterances[0]!
    const start = Math.round(u.start * 16_000)
    const frames = Array.from({ length: 12 }, (_, i) =>
      clean.audio.subarray(start + i * 512, start + (i + 1) * 512),
    )
    const alone = await SileroVad.create()
    const expected = []
    for (const f of frames) expected.push(await alone.speechProbability(f))
    const [a, b] = [await SileroVad.create(), await SileroVad.create()]
    const both = await Promise.all(
      frames.flatMap((f) => [a.speechProbability(f), b.speechProbability(new Float32Array(512))]),
    )
    expect(both.filter((_, i) => i % 2 === 0)).toEqual(expected)
    expect(Math.max(...both.filter((_, i) => i % 2 === 1))).toBeLessThan(0.1)
    await Promise.all([alone.close(), a.close(), b.close()])

    // A program that forgets close() still exits once its last answer is in.
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const program = `import { SileroVad } from ${JSON.stringify(dist)}
const vad = await SileroVad.create()
console.log(await vad.speechProbability(new Float32Array(512)) < 0.1)`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
      timeout: 30_000,
    })
    expect(stdout.trim()).toBe('true')
  }, 60_000)
})
