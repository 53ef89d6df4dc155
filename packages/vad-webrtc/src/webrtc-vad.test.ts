import { fileURLToPath } from 'node:url'
import { isWsError, StreamingSession } from '@ws/core'
import {
  composeUtterances,
  FakeBackend,
  loadSpeechFixtures,
  mixAtSnr,
  registerConformance,
  vadConformance,
} from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebRtcVad } from './webrtc-vad.js'

// Real speech: the ten spoken sentences with silences of 0.3 to 2 s between them, clean and
// with pink noise at 20 dB SNR; and 10 s of silence and of that noise alone.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const sentences = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const clean = composeUtterances(sentences, [0.3, 2, 0.7, 1.2, 0.5, 1.5, 0.3, 1, 0.8])
const noisy = mixAtSnr(clean.audio, 20, { regions: clean.utterances, seed: 7 })
const tenSeconds = 10 * 16_000

registerConformance(
  vadConformance({
    createVad: () => WebRtcVad.create({ aggressiveness: 3 }),
    speech: [
      { name: 'clean', audio: clean.audio, utterances: clean.utterances },
      { name: 'noisy (20 dB SNR)', audio: noisy.mixed, utterances: clean.utterances },
    ],
    nonSpeech: [
      { name: '10 s of silence', audio: new Float32Array(tenSeconds) },
      { name: '10 s of noise', audio: noisy.noise.subarray(0, tenSeconds) },
    ],
  }),
  { describe, it, beforeAll, afterAll },
)

describe('WebRtcVad', () => {
  it('takes 10, 20 and 30 ms frames at 8, 16, 32 and 48 kHz', async () => {
    for (const sampleRate of [8000, 16_000, 32_000, 48_000]) {
      for (const frameMs of [10, 20, 30]) {
        const vad = await WebRtcVad.create({ sampleRate, frameMs })
        expect(vad.frameSamples).toBe((sampleRate * frameMs) / 1000)
        expect(vad.isSpeech(new Int16Array(vad.frameSamples))).toBe(false)
        vad.close()
        vad.close()
      }
    }
  })

  it('refuses bad options with typed errors', async () => {
    const codes = []
    for (const options of [{ sampleRate: 44_100 }, { frameMs: 25 }, { aggressiveness: 4 }]) {
      codes.push(await WebRtcVad.create(options).catch((e) => (isWsError(e) ? e.code : 'untyped')))
    }
    expect(codes).toEqual(['unsupported_sample_rate', 'invalid_config', 'invalid_config'])
  })

  it('drives the streaming session: utterances end by themselves', async () => {
    const backend = new FakeBackend()
    await backend.loadModel('fake')
    const session = new StreamingSession({ backend, vad: await WebRtcVad.create(), partialIntervalMs: 0 })
    const events: string[] = []
    const done = (async () => {
      for await (const e of session) events.push(e.type)
    })()
    for (let i = 0; i < noisy.mixed.length; i += 1600) session.pushAudio(noisy.mixed.subarray(i, i + 1600))
    await session.end()
    await done
    const starts = events.filter((e) => e === 'speech_start').length
    expect(starts).toBeGreaterThanOrEqual(10)
    expect(starts).toBeLessThanOrEqual(20)
    expect(events.filter((e) => e === 'final')).toHaveLength(starts)
  })
})
