import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { DeepgramClient, DeepgramError } from '@deepgram/sdk'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, segmentTimesProblem, writeWav } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { createClient as createClientV3 } from 'deepgram-v3'
import { createClient as createClientV4 } from 'deepgram-v4'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ListenResponse } from './rest-deepgram.js'
import { createServer, type WhisperStreamServer } from './server.js'
import { WatchedBackend } from './test-backend.js'

// `POST /v1/listen` through Deepgram's own SDKs (3, 4 and 5), on the real whisper.cpp backend
// (tiny.en), real sockets and real speech (the setup's English telephone prompts, one speaker:
// a clip, and a 28 s and a 2 min stream of them).
const SR = 16_000
const TOKEN = 'deepgram-test-key'
const [short, long] = realSpeechFixtures('real-en-long').sort((a, b) => a.durationSeconds - b.durationSeconds)
const shortWav = writeWav(short!.audio, SR)
const [clip] = realSpeechFixtures('real-en', (f) => f.name === 'agent-alreadyon')
const clipWav = writeWav(clip!.audio, SR)

let whisper: WhisperCppBackend
let backend: WatchedBackend
let server: WhisperStreamServer
/** WER of the OpenAI endpoint's transcript of `short` on the same server: the native answer. */
let nativeWer: number

function wer(reference: string, hypothesis: string) {
  return corpusWordErrorRate([{ reference, hypothesis }])
}

async function start(options: Parameters<typeof createServer>[0] = {}) {
  const s = createServer({
    backend,
    port: 0,
    authToken: TOKEN,
    logger: pino({ level: 'silent' }),
    maxLoad: 8,
    ...options,
  })
  await s.listen()
  return s
}

async function nativeTranscript(s: WhisperStreamServer, wav: Uint8Array): Promise<string> {
  const form = new FormData()
  form.set('file', new Blob([wav]), 'audio.wav')
  const res = await fetch(`${s.url}/v1/audio/transcriptions`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${TOKEN}` },
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { text: string }).text
}

function listen(
  s: WhisperStreamServer,
  body: Uint8Array | string,
  query = '',
  headers: Record<string, string> = {},
) {
  return fetch(`${s.url}/v1/listen${query}`, {
    method: 'POST',
    body,
    headers: { authorization: `Token ${TOKEN}`, 'content-type': 'audio/wav', ...headers },
  })
}

/**
 * A Deepgram answer for `wav` (`seconds` of audio whose text is `reference`), checked as a
 * Deepgram client reads it: metadata, the transcript's accuracy against the native answer,
 * and words in order, within the audio, that make up the transcript.
 */
function expectListen(
  label: string,
  body: ListenResponse,
  wav: Uint8Array,
  seconds: number,
  reference: string,
  maxWer: number,
) {
  const { metadata } = body
  expect(metadata).toMatchObject({ transaction_key: 'deprecated', channels: 1 })
  expect(metadata.request_id).toMatch(/^[0-9a-f-]{36}$/)
  expect(metadata.sha256).toBe(createHash('sha256').update(wav).digest('hex'))
  expect(Math.abs(Date.now() - Date.parse(metadata.created))).toBeLessThan(120_000)
  expect(metadata.duration).toBeCloseTo(seconds, 2)
  expect(metadata.models).toHaveLength(1)
  expect(metadata.model_info[metadata.models[0]!]).toMatchObject({ name: 'tiny.en', arch: 'whisper' })
  const [channel] = body.results.channels
  const alternative = channel!.alternatives[0]!
  expect(wer(reference, alternative.transcript)).toBeLessThanOrEqual(maxWer)
  expect(alternative.confidence).toBeGreaterThan(0)
  expect(alternative.confidence).toBeLessThanOrEqual(1)
  const { words } = alternative
  expect(words.length).toBeGreaterThan(reference.split(' ').length / 2)
  let previous = 0
  for (const w of words) {
    expect(w.word).toBe(w.word.toLowerCase())
    expect(w.word).toMatch(/^[\p{L}\p{N}][\p{L}\p{N}']*$/u)
    expect(w.punctuated_word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '')).toContain(w.word)
    expect(w.start).toBeGreaterThanOrEqual(previous)
    expect(w.end).toBeGreaterThanOrEqual(w.start)
    expect(w.end).toBeLessThanOrEqual(seconds)
    expect(w.confidence).toBeGreaterThanOrEqual(0)
    expect(w.confidence).toBeLessThanOrEqual(1)
    previous = w.start
  }
  console.log(
    `${label}: WER ${(wer(reference, alternative.transcript) * 100).toFixed(1)} % (native + 3 points: ${(maxWer * 100).toFixed(1)} %)`,
  )
  // The words run through the audio and are the transcript's.
  expect(words.at(-1)!.end).toBeGreaterThan(seconds - 8)
  expect(wer(alternative.transcript, words.map((w) => w.punctuated_word).join(' '))).toBeLessThan(0.02)
  return alternative.transcript
}

beforeAll(async () => {
  whisper = new WhisperCppBackend()
  await whisper.loadModel('tiny.en')
  backend = new WatchedBackend(whisper)
  server = await start()
  nativeWer = wer(short!.text, await nativeTranscript(server, shortWav))
}, 300_000)

afterAll(async () => {
  await server?.close()
  await whisper?.close()
})

describe("Deepgram's SDKs against POST /v1/listen", () => {
  it('SDK 3: listen.prerecorded.transcribeFile with nova-3 and smart_format', async () => {
    const deepgram = createClientV3(TOKEN, { global: { fetch: { options: { url: server.url } } } })
    const { result, error } = await deepgram.listen.prerecorded.transcribeFile(Buffer.from(shortWav), {
      model: 'nova-3',
      smart_format: true,
    })
    expect(error).toBeNull()
    const text = expectListen(
      'SDK 3',
      result as unknown as ListenResponse,
      shortWav,
      short!.durationSeconds,
      short!.text,
      nativeWer + 0.03,
    )
    expect(text).toMatch(/[A-Z].*[.,?]/) // smart_format: as Whisper wrote it
  }, 60_000)

  it('SDK 4: the same call, and the typed 401 for a wrong key', async () => {
    const deepgram = createClientV4(TOKEN, { global: { fetch: { options: { url: server.url } } } })
    const { result, error } = await deepgram.listen.prerecorded.transcribeFile(Buffer.from(shortWav), {
      model: 'nova-3',
      smart_format: true,
    })
    expect(error).toBeNull()
    expectListen(
      'SDK 4',
      result as unknown as ListenResponse,
      shortWav,
      short!.durationSeconds,
      short!.text,
      nativeWer + 0.03,
    )
    const wrong = createClientV4('not-the-key', { global: { fetch: { options: { url: server.url } } } })
    const refused = await wrong.listen.prerecorded.transcribeFile(Buffer.from(shortWav), { model: 'nova-3' })
    expect(refused.result).toBeNull()
    expect(refused.error).toMatchObject({ name: 'DeepgramApiError', status: 401 })
  }, 60_000)

  it('SDK 5: listen.v1.media.transcribeFile, and its typed errors (401, 400 for a URL)', async () => {
    const deepgram = new DeepgramClient({ apiKey: TOKEN, baseUrl: server.url, maxRetries: 0 })
    const response = await deepgram.listen.v1.media.transcribeFile(Buffer.from(shortWav), {
      model: 'nova-3',
      smart_format: true,
      utterances: true,
    })
    expect('results' in response).toBe(true)
    const body = response as unknown as ListenResponse
    expectListen('SDK 5', body, shortWav, short!.durationSeconds, short!.text, nativeWer + 0.03)
    expect(body.results.utterances!.length).toBeGreaterThan(0)

    const wrong = new DeepgramClient({ apiKey: 'not-the-key', baseUrl: server.url, maxRetries: 0 })
    const unauthorized = await wrong.listen.v1.media
      .transcribeFile(Buffer.from(shortWav), { model: 'nova-3' })
      .catch((e: unknown) => e)
    expect(unauthorized).toBeInstanceOf(DeepgramError)
    expect(unauthorized).toMatchObject({ statusCode: 401, body: { err_code: 'INVALID_AUTH' } })
    expect((unauthorized as DeepgramError).requestId).toMatch(/^[0-9a-f-]{36}$/)

    const url = await deepgram.listen.v1.media
      .transcribeUrl({ url: 'https://dpgr.am/spacewalk.wav' })
      .catch((e: unknown) => e)
    expect(url).toBeInstanceOf(DeepgramError)
    expect(url).toMatchObject({ statusCode: 400, body: { err_code: 'Bad Request' } })
    expect((url as { body: { err_msg: string } }).body.err_msg).toMatch(/fetches no URLs/)
  }, 60_000)

  it('a 2-minute file: transcribed in windows, word times through the whole file', async () => {
    const wav = writeWav(long!.audio, SR)
    const calls = backend.calls
    const deepgram = new DeepgramClient({ apiKey: TOKEN, baseUrl: server.url, maxRetries: 0 })
    const response = await deepgram.listen.v1.media.transcribeFile(Buffer.from(wav), { model: 'nova-3' })
    expect(backend.calls - calls).toBeGreaterThanOrEqual(Math.ceil(long!.durationSeconds / 30))
    const native = wer(long!.text, await nativeTranscript(server, wav))
    const text = expectListen(
      '2 min, SDK 5',
      response as unknown as ListenResponse,
      wav,
      long!.durationSeconds,
      long!.text,
      native + 0.03,
    )
    // No punctuate or smart_format: lower case and unpunctuated, as Deepgram answers.
    expect(text).toBe(text.toLowerCase())
    expect(text).not.toMatch(/[.,?!]/)
  }, 180_000)
})

describe('POST /v1/listen', () => {
  it('takes Deepgram’s query parameters: utterances, diarize, language (en-US, multi), unknown ones ignored', async () => {
    const wav = clipWav
    const res = await listen(
      server,
      wav,
      '?model=nova-2-general&language=en-US&punctuate=true&utterances=true&diarize=true&tier=enhanced',
      { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('dg-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const body = (await res.json()) as ListenResponse
    const [channel] = body.results.channels
    expect(channel!.detected_language).toBeUndefined()
    const { words } = channel!.alternatives[0]!
    expect(words.every((w) => w.speaker === 0)).toBe(true)
    const utterances = body.results.utterances!
    expect(utterances.length).toBeGreaterThan(0)
    for (const u of utterances) {
      expect(u).toMatchObject({ channel: 0, speaker: 0 })
      expect(u.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(u.end).toBeGreaterThan(u.start)
      expect(u.transcript.length).toBeGreaterThan(0)
    }
    expect(utterances.flatMap((u) => u.words)).toEqual(words)
    // Utterances timed by their words: in order, no overlap, none of zero length, each within its words.
    const timed = utterances.map((u) => ({ start: u.start, end: u.end, text: u.transcript, words: u.words }))
    expect(segmentTimesProblem(timed, { tolerance: 0.0015 })).toBeUndefined()
    const native = wer(clip!.text, await nativeTranscript(server, wav))
    expect(wer(clip!.text, channel!.alternatives[0]!.transcript)).toBeLessThanOrEqual(native + 0.05)

    const multi = (await (await listen(server, wav, '?language=multi')).json()) as ListenResponse
    expect(multi.results.channels[0]!.detected_language).toBe('en')
    expect(multi.results.utterances).toBeUndefined()
  }, 60_000)

  it("answers bad requests in Deepgram's error shape and stays up", async () => {
    const expectError = async (res: Response, status: number, errCode: string, message: RegExp) => {
      expect(res.status).toBe(status)
      const body = (await res.json()) as { err_code: string; err_msg: string; request_id: string }
      expect(body).toMatchObject({ err_code: errCode })
      expect(body.err_msg).toMatch(message)
      expect(body.request_id).toBe(res.headers.get('dg-request-id'))
    }
    const url = JSON.stringify({ url: 'https://dpgr.am/spacewalk.wav' })
    await expectError(
      await listen(server, url, '', { 'content-type': 'application/json' }),
      400,
      'Bad Request',
      /fetches no URLs/,
    )
    // The same JSON sent as audio (no JSON content type) is recognised too.
    await expectError(await listen(server, url), 400, 'Bad Request', /fetches no URLs/)
    await expectError(
      await listen(server, 'this is not audio', '', { 'content-type': 'audio/mpeg' }),
      400,
      'Bad Request',
      /audio|ffmpeg/,
    )
    await expectError(await listen(server, new Uint8Array(0)), 400, 'Bad Request', /empty/)
    await expectError(await listen(server, 'RIFF....WAVEjunk'), 400, 'Bad Request', /WAV|wav/)
    await expectError(await listen(server, shortWav, '?language=english!'), 400, 'Bad Request', /language/)
    await expectError(await listen(server, shortWav, '?language=xx-YY'), 400, 'Bad Request', /Whisper knows/)
    await expectError(await listen(server, shortWav, '?punctuate=yes'), 400, 'Bad Request', /punctuate/)
    // An English-only model refuses another language (the backend's typed error).
    await expectError(await listen(server, clipWav, '?language=es'), 400, 'Bad Request', /English-only/)
    await expectError(
      await listen(server, shortWav, '', { authorization: '' }),
      401,
      'INVALID_AUTH',
      /credentials/,
    )
    await expectError(
      await listen(server, shortWav, '', { authorization: `Token ${TOKEN}x` }),
      401,
      'INVALID_AUTH',
      /credentials/,
    )
    // Still serving.
    const ok = await listen(server, clipWav)
    expect(ok.status).toBe(200)
  }, 60_000)

  it('shares the REST bounds: 413 over maxUploadBytes, 429 with Retry-After past maxRestJobs, 503 on shutdown', async () => {
    const s = await start({ maxUploadBytes: 1536 << 10, maxRestJobs: 1, shutdownGraceMs: 300 })
    // Refused from Content-Length, unread: a little of the body is sent, then nothing more.
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(s.url)
      const req = request(
        {
          hostname,
          port,
          path: '/v1/listen',
          method: 'POST',
          headers: { authorization: `Token ${TOKEN}`, 'content-length': String(8 << 20) },
        },
        (res) => {
          let body = ''
          res.on('data', (d: Buffer) => {
            body += d.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.write(Buffer.alloc(64 * 1024))
    })
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body)).toMatchObject({ err_code: 'Payload Too Large' })

    const clip = writeWav(long!.audio.subarray(0, 30 * SR), SR)
    const first = listen(s, clip)
    await expect.poll(() => backend.running(), { timeout: 10_000, interval: 5 }).toBe(1)
    const busy = await listen(s, clip)
    expect(busy.status).toBe(429)
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await busy.json()) as { err_code: string }).err_code).toBe('Too Many Requests')
    expect((await first).status).toBe(200)

    const cut = listen(s, writeWav(long!.audio.subarray(0, 45 * SR), SR))
    await expect.poll(() => backend.running(), { timeout: 10_000, interval: 5 }).toBe(1)
    const closing = s.close()
    const res = await cut
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({
      err_code: 'Service Unavailable',
      err_msg: 'The server is shutting down',
    })
    await closing
  }, 120_000)
})
