import { corpusWordErrorRate, WHISPER_SAMPLE_RATE } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { WhisperCppBackend } from './backend.js'

// A quantized model by name (`tiny.en-q5_1`): made offline by @ws/models from the float16
// model, read by whisper.cpp, and as accurate on real speech. On the 80 real English clips
// (greedy, whole clips): f16 2.38 %, q8_0 2.50 %, q5_1 2.86 %, q4_0 3.93 % WER.
const clips = realSpeechFixtures('real-en').slice(0, 40)
const backends: WhisperCppBackend[] = []
afterAll(async () => {
  for (const b of backends) await b.close()
})

async function werOf(model: string): Promise<{ wer: number; backend: WhisperCppBackend }> {
  const backend = new WhisperCppBackend({ beamSize: 1 })
  backends.push(backend)
  await backend.loadModel(model)
  const pairs = []
  for (const c of clips) {
    const r = await backend.transcribe(c.audio, WHISPER_SAMPLE_RATE)
    pairs.push({ reference: c.text, hypothesis: r.text })
  }
  return { wer: corpusWordErrorRate(pairs), backend }
}

describe('quantized ggml models', () => {
  it('tiny.en-q5_1 transcribes real speech within a point of tiny.en, with word times', async () => {
    const f16 = await werOf('tiny.en')
    const q = await werOf('tiny.en-q5_1')
    console.log(
      `40 real English clips: f16 ${(f16.wer * 100).toFixed(2)} %, q5_1 ${(q.wer * 100).toFixed(2)} %`,
    )
    expect(q.backend.modelFile).toMatch(/ggml-tiny\.en-q5_1\.bin$/)
    expect(q.wer).toBeLessThanOrEqual(f16.wer + 0.01)
    expect(q.wer).toBeLessThan(0.06)
    const r = await q.backend.transcribe(clips[0]!.audio, WHISPER_SAMPLE_RATE, { wordTimestamps: true })
    const words = r.segments.flatMap((s) => s.words ?? [])
    expect(words.length).toBeGreaterThan(1)
    for (const [i, w] of words.entries()) {
      expect(w.end).toBeGreaterThanOrEqual(w.start)
      if (i > 0) expect(w.start).toBeGreaterThanOrEqual(words[i - 1]!.start)
    }
  }, 300_000)
})
