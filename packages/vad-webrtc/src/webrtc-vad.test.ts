import { fileURLToPath } from 'node:url'
import { isWsError } from '@ws/core'
import { loadSpeechFixtures, registerConformance, vadConformance, vadTestCorpus } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebRtcVad } from './webrtc-vad.js'

// Real speech: the ten spoken sentences with silences of 0.3 to 2 s between them, clean and
// with pink noise at 20 dB SNR; and 10 s of silence and of that noise alone.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const corpus = vadTestCorpus(loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-')))

registerConformance(
  vadConformance({
    createVad: () => WebRtcVad.create({ aggressiveness: 3 }),
    speech: corpus.speech,
    nonSpeech: corpus.nonSpeech,
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
})
