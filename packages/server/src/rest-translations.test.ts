import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, writeWav } from '@ws/core'
import { composeUtterances, loadSpeechFixtures, realSpeechFixtures } from '@ws/core/testing'
import OpenAI, { BadRequestError, toFile } from 'openai'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from './server.js'

// `POST /v1/audio/translations` through OpenAI's own SDK, on the real whisper.cpp backend:
// the multilingual `base` for Spanish speech (the setup's telephone prompts, whose English
// versions, read by the same speaker, are the reference), and `tiny.en`, which cannot translate.
const SR = 16_000
const english = new Map(realSpeechFixtures('real-en').map((f) => [f.name, f]))
const PROMPTS = [
  'confbridge-begin-glorious-c',
  'confbridge-dec-talk-vol-in',
  'confbridge-lock-no-join',
  'confbridge-mute-in',
  'confbridge-participants',
  'confbridge-remove-last-out',
]
const spanish = realSpeechFixtures('real-es', (f) => PROMPTS.includes(f.name))
// About 33 s of Spanish with pauses: two windows.
const stream = composeUtterances(spanish, [0.8], { leadSeconds: 1, trailSeconds: 0.5 })
const reference = spanish.map((f) => english.get(f.name)!.text).join(' ')
const [german] = loadSpeechFixtures(
  fileURLToPath(new URL('../../../fixtures/speech', import.meta.url)),
  (f) => f.name === 'german-01',
)

let base: WhisperCppBackend
let server: WhisperStreamServer

function client(s: WhisperStreamServer) {
  return new OpenAI({ apiKey: 'unused', baseURL: `${s.url}/v1`, maxRetries: 0 })
}

function wer(hypothesis: string) {
  return corpusWordErrorRate([{ reference, hypothesis }])
}

beforeAll(async () => {
  base = new WhisperCppBackend()
  await base.loadModel('base')
  server = createServer({
    backend: base,
    model: 'base',
    port: 0,
    logger: pino({ level: 'silent' }),
    maxLoad: 8,
  })
  await server.listen()
}, 600_000)

afterAll(async () => {
  await server?.close()
  await base?.close()
})

describe("OpenAI's SDK against POST /v1/audio/translations", () => {
  it('translates Spanish speech into English (base), as the backend does on the whole file', async () => {
    const file = await toFile(writeWav(stream.audio, SR), 'spanish.wav', { type: 'audio/wav' })
    const translation = await client(server).audio.translations.create({ file, model: 'whisper-1' })
    const text = translation.text
    const direct = (await base.transcribe(stream.audio, SR, { task: 'translate' })).text
    console.log(
      `translation: WER ${(wer(text) * 100).toFixed(1)} % against the English prompts (one call on the whole file: ${(wer(direct) * 100).toFixed(1)} %)\n  ${text}`,
    )
    // English: the prompts' words, not the Spanish ones (a transcription scores over 100 %).
    expect(text.toLowerCase()).toContain('conference')
    expect(text.toLowerCase()).toContain('participant')
    expect(text.toLowerCase()).not.toMatch(/conferencia|participantes/)
    expect(wer(text)).toBeLessThan(0.65)
    expect(wer(text)).toBeLessThanOrEqual(wer(direct) + 0.1)
  }, 180_000)

  it('answers every response format; verbose_json says task "translate" and English', async () => {
    const file = await toFile(writeWav(german!.audio, SR), 'german.wav')
    // The SDK's overloads type this as the json answer: it is OpenAI's verbose one.
    const verbose = (await client(server).audio.translations.create({
      file,
      model: 'whisper-1',
      response_format: 'verbose_json',
    })) as unknown as { task: string; language: string; text: string; duration: number; segments: unknown[] }
    expect(verbose).toMatchObject({ task: 'translate', language: 'en' })
    expect(verbose.text.toLowerCase()).toContain('good morning')
    expect(verbose.duration).toBeCloseTo(german!.durationSeconds, 1)
    expect(verbose.segments.length).toBeGreaterThan(0)
    const srt = await client(server).audio.translations.create({
      file: await toFile(writeWav(german!.audio, SR), 'german.wav'),
      model: 'whisper-1',
      response_format: 'srt',
    })
    expect(srt).toMatch(/^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\n.*good morning/i)
  }, 60_000)

  it('refuses a file that is not audio with a typed 400, and goes on serving', async () => {
    const error = await client(server)
      .audio.translations.create({
        file: await toFile(Buffer.from('not audio at all'), 'a.mp3'),
        model: 'whisper-1',
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error).toMatchObject({ status: 400, code: 'invalid_audio', type: 'invalid_request_error' })
    const unknownModel = await client(server)
      .audio.translations.create({
        file: await toFile(writeWav(german!.audio, SR), 'g.wav'),
        model: 'large-v3',
      })
      .catch((e: unknown) => e)
    expect(unknownModel).toMatchObject({ status: 404, code: 'model_not_found' })
    const ok = await client(server).audio.translations.create({
      file: await toFile(writeWav(german!.audio, SR), 'german.wav'),
      model: 'base',
    })
    expect(ok.text.toLowerCase()).toContain('good morning')
  }, 60_000)

  it('an English-only model (tiny.en) answers a typed 400 before transcribing anything', async () => {
    const s = createServer({ model: 'tiny.en', port: 0, logger: pino({ level: 'silent' }) })
    await s.listen()
    try {
      const calls = s.metrics!.restRequests
      const error = await client(s)
        .audio.translations.create({
          file: await toFile(writeWav(german!.audio, SR), 'german.wav'),
          model: 'whisper-1',
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BadRequestError)
      expect(error).toMatchObject({ status: 400, code: 'invalid_config', param: 'model' })
      expect((error as BadRequestError).message).toMatch(/tiny\.en.*English-only/)
      expect(await calls.get()).toMatchObject({ values: [{ labels: { status: '400' }, value: 1 }] })
      // Its transcriptions are unchanged.
      const transcription = await client(s).audio.transcriptions.create({
        file: await toFile(writeWav(german!.audio, SR), 'german.wav'),
        model: 'whisper-1',
      })
      expect(typeof transcription.text).toBe('string')
    } finally {
      await s.close()
    }
  }, 120_000)
})
