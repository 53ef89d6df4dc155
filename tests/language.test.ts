import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import {
  concatFloat32,
  corpusWordErrorRate,
  isWsError,
  StreamingSession,
  WHISPER_SAMPLE_RATE,
} from '@ws/core'
import { type LoadedSpeechFixture, loadSpeechFixtures, realSpeechFixtures } from '@ws/core/testing'
import { createVad } from '@ws/vad-webrtc'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Streaming sessions that do not say their language, on the multilingual model that installs
// offline (base): the language is detected from the first final long enough to tell, reported
// on every final and kept for what follows. Real Spanish and Dutch (the setup's real-speech
// corpora) and espeak-ng's German.
const SR = WHISPER_SAMPLE_RATE
let base: WhisperCppBackend
// Finals on the window fitted to each utterance, where the bounds below were measured. At the
// default full window base read the Dutch 30 s stream worse (finals 65.1 % against 55.8 %
// fitted and offline), the 2-minute one better (55.1 against 65.4 %), Spanish 5.7 against
// 11.4 % (30 s) and 14.9 against 13.2 % (2 min): mixed on base, English (tiny.en) clearly better.
beforeAll(async () => {
  base = new WhisperCppBackend({ beamSize: 1, finalWindow: 'fitted' })
  await base.loadModel('base')
}, 600_000)
afterAll(() => base?.close())

/** Streams `audio` through a session (server VAD, `prompt`) in 20 ms frames; its finals. */
async function stream(audio: Float32Array, language?: string, task?: 'translate') {
  const session = new StreamingSession({
    backend: base,
    strategy: 'prompt',
    vad: await createVad(),
    ...(language ? { language } : {}),
    ...(task ? { task } : {}),
  })
  const finals: { text: string; language: string }[] = []
  const reading = (async () => {
    for await (const e of session) if (e.type === 'final') finals.push(e)
  })()
  for (let i = 0; i < audio.length; i += 320) {
    session.pushAudio(audio.subarray(i, i + 320))
    await new Promise((resolve) => setImmediate(resolve))
  }
  await session.end()
  await reading
  return { finals, language: session.language }
}

describe('language detection while streaming (base)', () => {
  // Measured: Spanish 30 s — finals 11.4 %, offline 11.4 % (the same asked for "es"); Dutch
  // 30 s (subtitles only close to what the actors say) — 55.8 % both.
  it.each([
    ['real-es-long', 'es'],
    ['real-nl-long', 'nl'],
  ] as const)(
    '%s: detects %s, reports it on every final, finals as good as offline',
    async (corpus, code) => {
      const s = realSpeechFixtures(corpus, (f) => f.name === 'stream-30s')[0]!
      const reference = s.segments!.map((x) => x.text).join(' ')
      const { finals, language } = await stream(s.audio)
      expect(language).toBe(code)
      expect(finals.length).toBeGreaterThan(2)
      expect(finals.map((f) => f.language)).toEqual(finals.map(() => code))
      const wer = (hypothesis: string) =>
        corpusWordErrorRate([{ reference, hypothesis }], { language: code, foldDiacritics: true })
      const streamed = wer(finals.map((f) => f.text).join(' '))
      const offline = wer((await base.transcribe(s.audio, SR)).text)
      console.log(
        `${corpus}: finals ${(streamed * 100).toFixed(1)} %, offline ${(offline * 100).toFixed(1)} %`,
      )
      expect(streamed).toBeLessThanOrEqual(offline + 0.02)
    },
    300_000,
  )

  it('task=translate: real Spanish streams as English text, as good as the same model translating offline', async () => {
    // The Spanish telephone prompts are Asterisk's English ones, translated: a clip's English
    // reference is the English corpus's clip of the same name. The eight such clips, 1 s apart.
    const english = new Map(realSpeechFixtures('real-en').map((f) => [f.name, f.text]))
    const clips = realSpeechFixtures('real-es', (f) => english.has(f.name)).slice(0, 8)
    expect(clips).toHaveLength(8)
    const gap = new Float32Array(SR)
    const audio = concatFloat32([gap, ...clips.flatMap((c) => [c.audio, gap])])
    const reference = clips.map((c) => english.get(c.name)).join(' ')
    const { finals, language } = await stream(audio, undefined, 'translate')
    expect(language).toBe('es')
    const wer = (hypothesis: string) => corpusWordErrorRate([{ reference, hypothesis }])
    const streamed = wer(finals.map((f) => f.text).join(' '))
    const offline = wer((await base.transcribe(audio, SR, { task: 'translate' })).text)
    const untranslated = wer((await base.transcribe(audio, SR, { language: 'es' })).text)
    console.log(
      `real Spanish translated: finals ${(streamed * 100).toFixed(1)} %, offline ${(offline * 100).toFixed(1)} %, Spanish text ${(untranslated * 100).toFixed(1)} % against the English`,
    )
    // English text, not Spanish: far closer to the English reference than the transcript is.
    expect(streamed).toBeLessThan(untranslated - 0.3)
    // Measured: finals 56.9 %, offline 52.3 %, the Spanish transcript 112 % (the prompts are
    // translated freely: "The conference will be held when our glorious leader comes" for
    // "… will begin when our glorious leader arrives"). 65 words: one word is 1.5 points;
    // utterance by utterance a translation is worded differently than the whole at once.
    expect(streamed).toBeLessThanOrEqual(offline + 0.06)
  }, 300_000)

  it('espeak-ng German: the language the same model detects offline on the same audio', async () => {
    // espeak-ng's German is heard as Latin by base, whole (offline) as streamed: Whisper's
    // detection, not the session's (a German clip alone is heard as German). (Its one Spanish
    // sentence is under 2 s: nothing is kept, each final detects, and a trailing fragment was
    // once heard as Japanese.)
    const dir = fileURLToPath(new URL('../fixtures/speech', import.meta.url))
    const gap = new Float32Array(SR)
    for (const prefix of ['german-']) {
      const fixtures = loadSpeechFixtures(dir, (f) => f.name.startsWith(prefix)) as LoadedSpeechFixture[]
      const audio = concatFloat32([gap, ...fixtures.flatMap((f) => [f.audio, gap])])
      const { finals, language } = await stream(audio)
      const offline = await base.transcribe(audio, SR)
      console.log(
        `espeak-ng ${prefix}*: streamed ${language} (finals ${finals.map((f) => f.language)}), offline ${offline.language}`,
      )
      expect(language).toBe(offline.language)
      expect(finals.every((f) => f.language === offline.language)).toBe(true)
    }
  }, 300_000)

  it('a language Whisper does not know is a typed error from the real engine, not a guess', async () => {
    // whisper.cpp on its own takes "xx" and transcribes silence as "Thank you for watching."
    const err = await base.transcribe(new Float32Array(SR), SR, { language: 'xx' }).catch((e: unknown) => e)
    expect(isWsError(err, 'invalid_config'), String(err)).toBe(true)
  })

  it('an English-only model refuses another language with a typed error', async () => {
    const english = new WhisperCppBackend({ beamSize: 1 })
    await english.loadModel('tiny.en')
    try {
      const err = await (async () => new StreamingSession({ backend: english, language: 'es' }))().catch(
        (e: unknown) => e,
      )
      expect(isWsError(err, 'invalid_config')).toBe(true)
    } finally {
      await english.close()
    }
  }, 120_000)
})
