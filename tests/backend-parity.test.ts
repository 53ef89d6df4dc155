import { fileURLToPath } from 'node:url'
import { FasterWhisperBackend } from '@ws/backend-faster'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, WHISPER_SAMPLE_RATE, type WhisperBackend, wordErrorRate } from '@ws/core'
import { type LoadedSpeechFixture, loadSpeechFixtures } from '@ws/core/testing'
import { progressPrinter } from '@ws/models'
import { describe, expect, it } from 'vitest'

// whisper.cpp on the ggml tiny.en converted from CTranslate2, against faster-whisper on the
// CTranslate2 original, on the same audio: the sixty Harvard sentences (lists 1 to 6, four
// espeak-ng voices, about 480 words, so one point is about five words). Both backends at
// their defaults apart from the beam, which is checked at 5 (the library default) and 1
// (the server default), and faster-whisper's window: its own full 30 s (`windowMarginMs: 0`),
// the reference the conversion is held to. whisper.cpp decodes as a streaming final does
// (`live`: its encoder window sized to the audio): whole clips take its full 30 s window,
// which on these espeak sentences is 2–6 points behind (it pads the log-mel with silence's
// spectrum, faster-whisper with zeros) and on real speech ahead (fixtures' real-en: 2.4 %
// against 3.1 % at beam 1). (faster-whisper's default reduced window is better than both on
// these sentences; its README has the figures.)
//
// Measured on this project's machine (2 cores), corpus WER whisper.cpp / faster-whisper:
// beam 5: 17.8 % / 17.2 %; beam 1: 19.3 % / 19.5 %.
const fixtures = [
  ...loadSpeechFixtures(fileURLToPath(new URL('../fixtures/speech', import.meta.url)), (f) =>
    f.name.startsWith('harvard-'),
  ),
  ...loadSpeechFixtures(fileURLToPath(new URL('../fixtures/wer', import.meta.url))),
]

const MAX_GAP = 0.01
const MAX_WER = 0.25

async function transcribeAll(backend: WhisperBackend, set: readonly LoadedSpeechFixture[], live = false) {
  try {
    await backend.loadModel('tiny.en')
    const texts: string[] = []
    for (const f of set) texts.push((await backend.transcribe(f.audio, WHISPER_SAMPLE_RATE, { live })).text)
    return texts
  } finally {
    await backend.close()
  }
}

describe('whisper.cpp (converted model) against faster-whisper, same audio', () => {
  it('has sixty sentences to measure on', () => {
    expect(fixtures.length).toBe(60)
    const words = fixtures.reduce((n, f) => n + f.text.split(/\s+/).length, 0)
    expect(words).toBeGreaterThan(400)
  })

  for (const beamSize of [5, 1]) {
    it(`corpus WER within one point at beam ${beamSize}`, async () => {
      const onProgress = progressPrinter()
      const cpp = await transcribeAll(new WhisperCppBackend({ beamSize, onProgress }), fixtures, true)
      const faster = await transcribeAll(
        new FasterWhisperBackend({ beamSize, windowMarginMs: 0, onProgress }),
        fixtures,
      )
      const wer = (texts: string[]) =>
        corpusWordErrorRate(fixtures.map((f, i) => ({ reference: f.text, hypothesis: texts[i]! })))
      const cppWer = wer(cpp)
      const fasterWer = wer(faster)
      const differing = fixtures.filter((_, i) => wordErrorRate(cpp[i]!, faster[i]!).wer > 0).length
      console.log(
        `beam ${beamSize}: corpus WER whisper.cpp ${(cppWer * 100).toFixed(1)} %, faster-whisper ${(fasterWer * 100).toFixed(1)} % ` +
          `(${differing} of ${fixtures.length} transcripts differ)`,
      )
      if (Math.abs(cppWer - fasterWer) > MAX_GAP) {
        fixtures.forEach((f, i) => {
          if (wordErrorRate(cpp[i]!, faster[i]!).wer > 0)
            console.log(`${f.name}: "${f.text}"\n  whisper.cpp:    ${cpp[i]}\n  faster-whisper: ${faster[i]}`)
        })
      }
      expect(Math.abs(cppWer - fasterWer)).toBeLessThanOrEqual(MAX_GAP)
      expect(cppWer).toBeLessThan(MAX_WER)
      expect(fasterWer).toBeLessThan(MAX_WER)
    }, 600_000)
  }
})
