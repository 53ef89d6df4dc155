import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, encodePcm16le, segmentTimesProblem, writeWav } from '@ws/core'
import { composeUtterances, loadSpeechFixtures } from '@ws/core/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from './server.js'
import { WatchedBackend } from './test-backend.js'
import { TestClient } from './test-client.js'

// The REST endpoint's bounds, on the real whisper.cpp backend (tiny.en) and real sockets.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url))
const sentences = [
  ...loadSpeechFixtures(`${FIXTURES}speech`, (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(`${FIXTURES}wer`).slice(0, 20),
]
const SR = 16_000
// About 100 s of read sentences with pauses: four windows.
const long = composeUtterances(
  sentences,
  sentences.slice(1).map((_, i) => 0.6 + (i % 3) * 0.4),
  { leadSeconds: 0.5, trailSeconds: 0.5 },
)
const longText = sentences.map((s) => s.text).join(' ')

let whisper: WhisperCppBackend
let backend: WatchedBackend

beforeAll(async () => {
  whisper = new WhisperCppBackend()
  await whisper.loadModel('tiny.en')
  backend = new WatchedBackend(whisper)
}, 300_000)

afterAll(async () => {
  await whisper?.close()
})

async function start(options: Parameters<typeof createServer>[0] = {}) {
  const s = createServer({ backend, port: 0, logger: pino({ level: 'silent' }), maxLoad: 8, ...options })
  await s.listen()
  return s
}

function form(file: Uint8Array, fields: Record<string, string> = {}, name = 'audio.wav') {
  const body = new FormData()
  body.set('file', new Blob([file]), name)
  for (const [k, v] of Object.entries(fields)) body.set(k, v)
  return body
}

function transcribe(
  s: WhisperStreamServer,
  file: Uint8Array,
  fields: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(`${s.url}/v1/audio/transcriptions`, {
    method: 'POST',
    body: form(file, fields),
    ...(signal ? { signal } : {}),
  })
}

/** An 8-bit PCM WAV of `seconds` at `rate`: small on the wire, long in time. */
function wav8(rate: number, seconds: number): Uint8Array {
  const frames = Math.round(rate * seconds)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + frames, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate, 28)
  header.writeUInt16LE(1, 32)
  header.writeUInt16LE(8, 34)
  header.write('data', 36)
  header.writeUInt32LE(frames, 40)
  const data = Buffer.alloc(frames, 128) // silence
  return Buffer.concat([header, data])
}

describe('REST bounds', () => {
  it('refuses audio over maxFileSeconds from the WAV header, before decoding it', async () => {
    const server = await start({ maxFileSeconds: 600 })
    const calls = backend.calls
    // 44 minutes of 8-bit audio at 1000 Hz: 2.6 MB on the wire.
    const res = await transcribe(server, wav8(1000, 44 * 60))
    expect(res.status).toBe(413)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('audio_too_large')
    expect(body.error.message).toMatch(/2640 s long; at most 600 s/)
    expect(backend.calls).toBe(calls)
    await server.close()
  })

  it('transcribes a long file in windows at pauses, as accurately as one whole call', async () => {
    const server = await start()
    const calls = backend.calls
    const res = await transcribe(server, writeWav(long.audio, SR), { response_format: 'verbose_json' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      text: string
      duration: number
      segments: { start: number; end: number }[]
    }
    expect(backend.calls - calls).toBeGreaterThanOrEqual(Math.ceil(long.audio.length / SR / 30))
    expect(body.duration).toBeCloseTo(long.audio.length / SR, 1)
    // Segment times run through the whole file, in order, without overlap or zero length
    // (timed by words decoded though none were asked for, and not returned).
    expect(segmentTimesProblem(body.segments, { tolerance: 0.0015 })).toBeUndefined()
    expect(body).not.toHaveProperty('words')
    expect(body.segments.at(-1)!.end).toBeGreaterThan(long.audio.length / SR - 10)
    const whole = await whisper.transcribe(long.audio, SR)
    const wer = (h: string) => corpusWordErrorRate([{ reference: longText, hypothesis: h }])
    console.log(
      `long file: windows ${(wer(body.text) * 100).toFixed(1)} %, one call ${(wer(whole.text) * 100).toFixed(1)} %`,
    )
    expect(wer(body.text)).toBeLessThanOrEqual(wer(whole.text) + 0.02)
    await server.close()
  }, 180_000)

  it('lets live finals run between the windows of a long file', async () => {
    const server = await start()
    const rest = transcribe(server, writeWav(long.audio, SR)).then(() => performance.now())
    await expect.poll(() => backend.running(), { timeout: 10_000, interval: 5 }).toBe(1)
    const client = new TestClient(`${server.url.replace(/^http/, 'ws')}/ws/transcribe/prompt?vad=off`)
    await client.next('ready')
    client.ws.send(encodePcm16le(sentences[0]!.audio))
    client.send({ type: 'vad_end' })
    await client.next('final', 60_000)
    const finalAt = performance.now()
    expect(finalAt).toBeLessThan(await rest) // the final did not wait for the whole file
    await client.end()
    await server.close()
  }, 180_000)

  it('caps concurrent jobs with 429 and Retry-After, stops a job whose client left, and answers a job cut by shutdown with 503', async () => {
    const server = await start({ maxRestJobs: 1, shutdownGraceMs: 500 })
    const file = writeWav(long.audio, SR)
    // A client that leaves after its first window started: no further window runs.
    const leaving = new AbortController()
    const gone = transcribe(server, file, {}, leaving.signal).catch((e: unknown) => e)
    await expect.poll(() => backend.running(), { timeout: 10_000, interval: 5 }).toBe(1)
    const busy = await transcribe(server, file)
    expect(busy.status).toBe(429)
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('server_busy')
    leaving.abort()
    await gone
    await expect.poll(() => backend.running(), { timeout: 10_000 }).toBe(0)
    const callsAfterLeaving = backend.calls
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(backend.calls).toBe(callsAfterLeaving)
    // The slot is free again; a job under way when the server shuts down gets a typed 503.
    const cut = transcribe(server, file)
    await expect.poll(() => backend.running(), { timeout: 10_000, interval: 5 }).toBe(1)
    const closing = server.close()
    const res = await cut
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'server_busy',
      message: 'The server is shutting down',
    })
    await closing
  }, 180_000)

  it('refuses a body over maxUploadBytes from Content-Length without reading it, closing the connection', async () => {
    const server = await start({ maxUploadBytes: 1024 * 1024 })
    const { hostname, port } = new URL(server.url)
    const answer = await new Promise<{ status: number; connection: string | undefined; closed: boolean }>(
      (resolve, reject) => {
        const req = request(
          {
            hostname,
            port,
            path: '/v1/audio/transcriptions',
            method: 'POST',
            headers: {
              'content-type': 'multipart/form-data; boundary=x',
              'content-length': String(50 << 20),
            },
          },
          (res) => {
            res.resume()
            res.on('end', () => {
              const socket = req.socket
              setTimeout(
                () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    connection: res.headers.connection,
                    closed: socket?.destroyed ?? true,
                  }),
                100,
              )
            })
          },
        )
        req.on('error', reject)
        req.write(Buffer.alloc(64 * 1024)) // a little of the 50 MiB, then nothing more
      },
    )
    expect(answer.status).toBe(413)
    expect(answer.connection).toBe('close')
    expect(answer.closed).toBe(true)
    await server.close()
  })

  it('maps the model field: OpenAI names and the served model, any other is model_not_found', async () => {
    const server = await start()
    const clip = writeWav(sentences[1]!.audio, SR)
    for (const model of ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe', 'tiny.en'])
      expect((await transcribe(server, clip, { model })).status).toBe(200)
    const other = await transcribe(server, clip, { model: 'large-v3' })
    expect(other.status).toBe(404)
    const body = (await other.json()) as { error: { code: string; type: string; message: string } }
    expect(body.error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' })
    expect(body.error.message).toMatch(/tiny\.en/)
    await server.close()
  })

  it('fits the words to the speech its VAD hears, and answers with the engine’s times when the VAD fails', async () => {
    // A VAD that hears speech from 1.2 to 2.1 s of each window only (frames 40–69 of 30 ms):
    // the words across those edges are trimmed to them. The first VAD a server makes checks it at start; later ones fail
    // when `broken` says so.
    let broken: 'create' | 'frames' | undefined
    let made = 0
    const vad = async () => {
      if (made++ > 0 && broken === 'create') throw new Error('no VAD')
      let frame = 0
      return {
        sampleRate: SR,
        frameSamples: 480,
        reset: () => {
          frame = 0
        },
        isSpeech: () => {
          if (broken === 'frames') throw new Error('VAD failed')
          const f = frame++
          return f >= 40 && f < 70
        },
      }
    }
    const server = await start({ vad })
    const clip = writeWav(sentences[1]!.audio, SR)
    type Answer = { segments: unknown[]; words: { start: number; end: number }[] }
    const words = async () => {
      const res = await transcribe(server, clip, {
        response_format: 'verbose_json',
        'timestamp_granularities[]': 'word',
      })
      expect(res.status).toBe(200)
      const body = (await res.json()) as Answer
      expect(body.segments.length).toBeGreaterThan(0)
      return body.words
    }
    const across = (w: { start: number; end: number }) => w.start < 2.1 && w.end > 1.2
    const fitted = await words()
    expect(fitted.filter(across).length).toBeGreaterThan(2)
    for (const w of fitted.filter(across)) {
      expect(w.start).toBeGreaterThanOrEqual(1.2 - 0.0015)
      expect(w.end).toBeLessThanOrEqual(2.1 + 0.0015)
    }
    for (const mode of ['create', 'frames'] as const) {
      broken = mode
      const raw = await words()
      expect(raw.some((w) => across(w) && (w.start < 1.19 || w.end > 2.11))).toBe(true)
    }
    await server.close()
  })
})
