import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { wordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from '../server.js'
import { makeTestCertificates, nativeTranscript, rawAudio, runClient } from './drop-in-test-support.js'

// The official `openai` npm client — 7.x (GA, intent=transcription), 6.x (GA, ?model=) and 4.x
// (beta) — unmodified but for its base URL, each in its own Node process as an app runs it,
// against the real server (whisper.cpp tiny.en) over wss with a test CA in NODE_EXTRA_CA_CERTS,
// on 28 s of real telephone speech.
const stream = realSpeechFixtures('real-en-long', (f) => f.name === 'stream-30s')[0]!
const TOKEN = 'sk-local-test'
let server: WhisperStreamServer
let tls: ReturnType<typeof makeTestCertificates>
let pcm: string
let ulaw: string
let nativeWer: number

type Event = Record<string, unknown>

beforeAll(async () => {
  tls = makeTestCertificates()
  pcm = join(tls.dir, 'speech-24k.raw')
  ulaw = join(tls.dir, 'speech-8k.ulaw')
  writeFileSync(pcm, rawAudio(stream.audio, 'pcm16', 24_000))
  writeFileSync(ulaw, rawAudio(stream.audio, 'mulaw', 8000))
  server = createServer({ model: 'tiny.en', port: 0, tlsCert: tls.cert, tlsKey: tls.key, authToken: TOKEN })
  await server.listen()
  const native = await nativeTranscript(server.url, stream.audio, { ca: tls.ca, token: TOKEN })
  nativeWer = wordErrorRate(stream.text, native).wer
  console.log(`native protocol on the same audio: WER ${(nativeWer * 100).toFixed(1)} %`)
}, 300_000)
afterAll(() => server?.close({ drainDelayMs: 0 }))

/** The server VAD's silence as the native protocol's default, so both end utterances alike. */
const SAME_VAD = { type: 'server_vad', silence_duration_ms: 250, prefix_padding_ms: 200 }

const client = (config: Record<string, unknown>) =>
  runClient(
    'openai-realtime',
    { baseURL: `${server.url}/v1`, apiKey: TOKEN, audio: pcm, speed: 4, turnDetection: SAME_VAD, ...config },
    { NODE_EXTRA_CA_CERTS: tls.ca },
  )

const completedOf = (events: Event[]) =>
  events.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed')
const transcriptOf = (events: Event[]) =>
  completedOf(events)
    .map((e) => e.transcript)
    .join(' ')

/** Each item's events in OpenAI's order; deltas add up to the transcript. */
function checkItems(events: Event[], beta: boolean): void {
  const created = beta ? 'conversation.item.created' : 'conversation.item.added'
  const order = [
    'input_audio_buffer.speech_started',
    'input_audio_buffer.speech_stopped',
    'input_audio_buffer.committed',
    created,
    'conversation.item.input_audio_transcription.delta',
    'conversation.item.input_audio_transcription.completed',
    ...(beta ? [] : ['conversation.item.done']),
  ]
  const items = new Map<string, string[]>()
  const deltas = new Map<string, string>()
  for (const e of events) {
    const id = (e.item_id ?? (e.item as Event | undefined)?.id) as string | undefined
    if (!id || !order.includes(e.type as string)) continue
    items.set(id, [...(items.get(id) ?? []), e.type as string])
    if (e.type === 'conversation.item.input_audio_transcription.delta')
      deltas.set(id, (deltas.get(id) ?? '') + e.delta)
    if (e.type === 'conversation.item.input_audio_transcription.completed') {
      expect(e.transcript).toBe(deltas.get(id) ?? '')
      expect(e.usage).toMatchObject({ type: 'duration' })
      expect((e.usage as { seconds: number }).seconds).toBeGreaterThan(0)
    }
  }
  expect(items.size).toBeGreaterThanOrEqual(4)
  for (const types of items.values()) expect(types).toEqual(order)
  if (!beta) expect(events.filter((e) => e.type === 'conversation.item.created')).toEqual([])
}

function checkAccuracy(events: Event[]): void {
  const wer = wordErrorRate(stream.text, transcriptOf(events)).wer
  // The same audio, session and strategy as the native protocol: the same words, give or take
  // a decoding's timing.
  expect(wer).toBeLessThanOrEqual(nativeWer + 0.02)
  expect(wer).toBeLessThan(0.12)
}

describe('TLS', () => {
  it('serves every route over https on one port: health, demo page, models, the native protocol', async () => {
    const { get } = await import('node:https')
    const { readFileSync } = await import('node:fs')
    const fetchTls = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${server.url}${path}`, { ca: readFileSync(tls.ca) }, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => {
            body += d.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        }).on('error', reject)
      })
    expect(server.url).toMatch(/^https:\/\//)
    expect((await fetchTls('/health')).status).toBe(200)
    expect((await fetchTls('/')).body).toContain('<html')
    expect((await fetchTls('/v1/models')).body).toContain('tiny.en')
    // The native protocol over wss (beforeAll): the baseline every drop-in test compares with.
    expect(nativeWer).toBeLessThan(0.12)
  })
})

describe('OpenAI Realtime transcription with the official openai client', () => {
  it('openai 7, GA shape with intent=transcription, over wss', async () => {
    const { events, stderr } = await client({ module: 'openai', shape: 'ga-intent' })
    expect(stderr).toBe('')
    const open = events.find((e) => e.type === 'client.open')!
    expect(open.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime\?intent=transcription$/)
    expect(events[1]).toMatchObject({ type: 'session.created', session: { type: 'transcription' } })
    expect(events.find((e) => e.type === 'session.updated')).toMatchObject({
      session: { audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: SAME_VAD } } },
    })
    checkItems(events, false)
    checkAccuracy(events)
  }, 120_000)

  it('openai 6, GA shape with ?model=', async () => {
    const { events } = await client({ module: 'openai-v6', shape: 'ga-model', model: 'gpt-4o-transcribe' })
    expect(events.find((e) => e.type === 'client.open')!.url).toMatch(/\?model=gpt-4o-transcribe$/)
    checkItems(events, false)
    checkAccuracy(events)
  }, 120_000)

  it('openai 4, beta shape (OpenAI-Beta: realtime=v1), G.711 μ-law at 8 kHz', async () => {
    const { events } = await client({ module: 'openai-v4', shape: 'beta', format: 'g711_ulaw', audio: ulaw })
    expect(events[1]).toMatchObject({
      type: 'transcription_session.created',
      session: { object: 'realtime.transcription_session' },
    })
    expect(events.find((e) => e.type === 'transcription_session.updated')).toMatchObject({
      session: { input_audio_format: 'g711_ulaw' },
    })
    checkItems(events, true)
    checkAccuracy(events)
  }, 120_000)

  it('turn_detection null: the buffer is transcribed when committed', async () => {
    const { events } = await client({
      module: 'openai',
      shape: 'ga-intent',
      turnDetection: null,
      commit: true,
    })
    expect(events.some((e) => e.type === 'input_audio_buffer.speech_started')).toBe(false)
    // 28 s in one buffer: cut once at the longest utterance (maxUtteranceS, 25 s, inside
    // Whisper's 30 s window), the rest at the commit.
    const completed = completedOf(events)
    expect(completed).toHaveLength(2)
    expect(events.filter((e) => e.type === 'input_audio_buffer.committed')).toHaveLength(2)
    expect(wordErrorRate(stream.text, transcriptOf(events)).wer).toBeLessThan(0.15)
  }, 120_000)

  it('answers unsupported and bad events with error events, and keeps transcribing', async () => {
    const { events } = await client({
      module: 'openai',
      shape: 'ga-intent',
      extraEvents: [
        { type: 'response.create', event_id: 'evt_1' },
        { type: 'input_audio_buffer.append', audio: 'not base64!' },
        { type: 'input_audio_buffer.commit' },
        { type: 'session.update', session: { type: 'realtime' } },
        { type: 'no.such.event' },
      ],
    })
    const errors = events.filter((e) => e.type === 'error').map((e) => e.error as Event)
    expect(errors.map((e) => e.type)).toEqual(Array(5).fill('invalid_request_error'))
    expect(errors[0]).toMatchObject({ event_id: 'evt_1' })
    expect(errors.map((e) => e.code)).toEqual([
      'invalid_message',
      'invalid_audio',
      'invalid_audio',
      'invalid_config',
      'invalid_message',
    ])
    checkAccuracy(events)
  }, 120_000)
})
