import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { wordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createServer, type WhisperStreamServer } from '../server.js'
import { makeTestCertificates, nativeTranscript, rawAudio, runClient } from './drop-in-test-support.js'

// The official `@deepgram/sdk` — v3 and v4 (`listen.live`) and v5 (`DeepgramClient`) —
// unmodified but for its base URL, each in its own Node process, against the real server
// (whisper.cpp tiny.en) over wss with a test CA, on 28 s of real telephone speech.
const stream = realSpeechFixtures('real-en-long', (f) => f.name === 'stream-30s')[0]!
const TOKEN = 'dg-local-test'
let server: WhisperStreamServer
let tls: ReturnType<typeof makeTestCertificates>
let pcm: string
let ulaw: string
let cut: string
let nativeWer: number

// biome-ignore lint/suspicious/noExplicitAny: JSON messages of several shapes, read field by field
type Message = Record<string, any>

beforeAll(async () => {
  tls = makeTestCertificates()
  pcm = join(tls.dir, 'speech-16k.raw')
  ulaw = join(tls.dir, 'speech-8k.ulaw')
  cut = join(tls.dir, 'speech-cut.raw')
  writeFileSync(pcm, rawAudio(stream.audio, 'pcm16', 16_000))
  writeFileSync(ulaw, rawAudio(stream.audio, 'mulaw', 8000))
  // Ends as the last word ends: only Finalize can end that utterance.
  writeFileSync(
    cut,
    rawAudio(stream.audio.subarray(0, Math.round(stream.speechEnd * 16_000)), 'pcm16', 16_000),
  )
  server = createServer({ model: 'tiny.en', port: 0, tlsCert: tls.cert, tlsKey: tls.key, authToken: TOKEN })
  await server.listen()
  nativeWer = wordErrorRate(
    stream.text,
    await nativeTranscript(server.url, stream.audio, { ca: tls.ca, token: TOKEN }),
  ).wer
  console.log(`native protocol on the same audio: WER ${(nativeWer * 100).toFixed(1)} %`)
}, 300_000)
afterAll(() => server?.close({ drainDelayMs: 0 }))

const LINEAR16 = { encoding: 'linear16', sample_rate: 16000, channels: 1, endpointing: 250 }
const client = (config: Record<string, unknown>) =>
  runClient(
    'deepgram-live',
    { url: server.url.replace(/^https/, 'wss'), apiKey: TOKEN, audio: pcm, speed: 4, ...config },
    { NODE_EXTRA_CA_CERTS: tls.ca },
  )
const finals = (messages: Message[]) => messages.filter((m) => m.type === 'Results' && m.is_final)
const transcriptOf = (messages: Message[]) =>
  finals(messages)
    .map((m) => m.channel.alternatives[0].transcript)
    .filter(Boolean)
    .join(' ')

/** Every field Deepgram's clients index (LiveKit, Pipecat, the SDKs' types). */
function checkResults(messages: Message[], audioSeconds: number): void {
  const results = messages.filter((m) => m.type === 'Results')
  expect(results.length).toBeGreaterThan(0)
  let previousEnd = 0
  for (const r of results) {
    expect(r).toMatchObject({
      channel_index: [0, 1],
      is_final: expect.any(Boolean),
      speech_final: expect.any(Boolean),
      from_finalize: expect.any(Boolean),
      start: expect.any(Number),
      duration: expect.any(Number),
      metadata: {
        request_id: expect.any(String),
        model_uuid: expect.any(String),
        model_info: { name: 'tiny.en' },
      },
    })
    const alt = r.channel.alternatives[0]
    expect(alt).toMatchObject({
      transcript: expect.any(String),
      confidence: expect.any(Number),
      words: expect.any(Array),
    })
    if (!r.is_final) continue
    for (const w of alt.words) {
      expect(w).toMatchObject({
        word: expect.any(String),
        punctuated_word: expect.any(String),
        confidence: expect.any(Number),
      })
      expect(w.word).toBe(w.word.toLowerCase())
      expect(w.start).toBeGreaterThanOrEqual(previousEnd - 0.5)
      expect(w.end).toBeGreaterThanOrEqual(w.start)
      expect(w.end).toBeLessThanOrEqual(audioSeconds + 0.1)
      previousEnd = w.end
    }
  }
  const end = messages.filter((m) => m.type === 'Metadata')
  expect(end).toHaveLength(1)
  expect(end[0]).toMatchObject({
    request_id: results[0]!.metadata.request_id,
    channels: 1,
    sha256: expect.any(String),
  })
  expect(end[0]!.duration).toBeCloseTo(audioSeconds, 0)
  expect(messages.find((m) => m.type === 'client.close')).toMatchObject({ code: 1000 })
}

function checkAccuracy(messages: Message[]): void {
  const wer = wordErrorRate(stream.text, transcriptOf(messages)).wer
  expect(wer).toBeLessThanOrEqual(nativeWer + 0.02)
  expect(wer).toBeLessThan(0.12)
}

describe('Deepgram live with the official @deepgram/sdk', () => {
  it('v5 DeepgramClient: interim and final results, SpeechStarted, UtteranceEnd, Metadata, close 1000', async () => {
    const { events } = await client({
      module: '@deepgram/sdk',
      version: 5,
      query: {
        ...LINEAR16,
        interim_results: true,
        vad_events: true,
        utterance_end_ms: 1000,
        smart_format: true,
      },
    })
    checkResults(events, stream.durationSeconds)
    expect(events.some((m) => m.type === 'Results' && !m.is_final)).toBe(true)
    expect(finals(events).filter((m) => m.speech_final).length).toBeGreaterThanOrEqual(4)
    expect(events.filter((m) => m.type === 'SpeechStarted').length).toBeGreaterThanOrEqual(4)
    expect(events.filter((m) => m.type === 'UtteranceEnd').length).toBeGreaterThanOrEqual(4)
    checkAccuracy(events)
  }, 120_000)

  it('v4 listen.live, PCM in odd-sized chunks', async () => {
    const { events } = await client({ module: 'deepgram-v4', version: 4, query: LINEAR16, oddChunks: true })
    checkResults(events, stream.durationSeconds)
    expect(events.some((m) => m.type === 'Results' && !m.is_final)).toBe(false)
    checkAccuracy(events)
  }, 120_000)

  it('v3 listen.live, G.711 μ-law at 8 kHz', async () => {
    const { events } = await client({
      module: 'deepgram-v3',
      version: 3,
      audio: ulaw,
      query: { encoding: 'mulaw', sample_rate: 8000, endpointing: 250 },
    })
    checkResults(events, stream.durationSeconds)
    checkAccuracy(events)
  }, 120_000)

  it('Finalize ends the utterance the audio stops in: from_finalize', async () => {
    const { events } = await client({
      module: '@deepgram/sdk',
      version: 5,
      audio: cut,
      query: LINEAR16,
      finalize: true,
      settleMs: 100,
    })
    const flushed = finals(events).filter((m) => m.from_finalize)
    expect(flushed).toHaveLength(1)
    expect(flushed[0]).toMatchObject({ speech_final: false })
    expect(flushed[0]!.channel.alternatives[0].transcript).toMatch(/incoming/i)
    expect(flushed[0]!.start + flushed[0]!.duration).toBeCloseTo(stream.speechEnd, 0)
  }, 120_000)
})

describe('Deepgram live: bad input in the protocol’s own form', () => {
  const url = (query: string) => `${server.url.replace(/^https/, 'wss')}/v1/listen?${query}`
  const open = (query: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}) =>
    new WebSocket(url(query), options.protocols ?? [], {
      ca: readFileSync(tls.ca),
      headers: options.headers ?? { authorization: `Token ${TOKEN}` },
    })
  const refusal = (ws: WebSocket) =>
    new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => {})
    })
  const closing = (ws: WebSocket) =>
    new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )

  it('refuses what it cannot serve before the handshake: 400, 401', async () => {
    expect(await refusal(open('encoding=opus&sample_rate=48000'))).toBe(400)
    expect(await refusal(open('encoding=linear16&sample_rate=16000&channels=2'))).toBe(400)
    expect(await refusal(open('encoding=linear16', { headers: { authorization: 'Token wrong' } }))).toBe(401)
  })

  it('takes the key as a subprotocol and echoes only "token"', async () => {
    const ws = open('encoding=linear16&sample_rate=16000', { protocols: ['token', TOKEN], headers: {} })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    expect(ws.protocol).toBe('token')
    const closed = closing(ws)
    ws.send(JSON.stringify({ type: 'CloseStream' }))
    expect((await closed).code).toBe(1000)
  })

  it('closes with 1008 on a text message that is not JSON, and with 1011 after 10 s without audio or KeepAlive', async () => {
    const bad = open('encoding=linear16&sample_rate=16000')
    const badClosed = closing(bad)
    await new Promise((resolve) => bad.once('open', resolve))
    bad.send('hello')
    expect((await badClosed).code).toBe(1008)

    const idle = open('encoding=linear16&sample_rate=16000')
    const idleClosed = closing(idle)
    const opened = performance.now()
    const messages: Message[] = []
    idle.on('message', (d) => messages.push(JSON.parse(d.toString())))
    await new Promise((resolve) => idle.once('open', resolve))
    idle.send(JSON.stringify({ type: 'KeepAlive' }))
    const { code } = await idleClosed
    expect(code).toBe(1011)
    expect(performance.now() - opened).toBeGreaterThan(9000)
    expect(messages.map((m) => m.type)).toEqual(['Metadata'])
    await expect.poll(() => server.connections).toBe(0)
  }, 30_000)
})
