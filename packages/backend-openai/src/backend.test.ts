import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { isWsError, WHISPER_SAMPLE_RATE } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { describe, expect, it } from 'vitest'
import { OpenAiBackend } from './backend.js'

// Small HTTP servers on loopback that fail the way real ones do. The conformance suite runs
// against real servers: @ws/server's REST (tests/remote-backend.test.ts) and whisper.cpp's
// whisper-server (whisper-server.test.ts).
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))

/** A loopback server answering each request with the next of `replies` (the last repeats). */
async function scripted(replies: ((req: IncomingMessage, res: ServerResponse) => void)[]): Promise<{
  url: string
  hits: number[]
  inFlight: () => number
  maxInFlight: () => number
  close(): Promise<void>
}> {
  const hits: number[] = []
  let inFlight = 0
  let maxInFlight = 0
  const server: Server = createHttpServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      res.writeHead(404)
      return res.end()
    }
    hits.push(Date.now())
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => inFlight--)
    req.resume()
    req.on('end', () => replies[Math.min(hits.length - 1, replies.length - 1)]!(req, res))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    hits,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(() => r()))
    },
  }
}
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
const ok = json(200, {
  text: 'hello there',
  language: 'english',
  segments: [{ start: 0, end: 1, text: 'hello there' }],
})
const audio = english[0]!.audio
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'none',
    (e) => (isWsError(e) ? e.code : `untyped: ${e}`),
  )

describe('OpenAiBackend against servers that fail', () => {
  it('retries 503 then answers, waiting what Retry-After asks; maps OpenAI language names', async () => {
    const s = await scripted([json(503, { error: { message: 'busy' } }, { 'retry-after': '1' }), ok])
    const b = new OpenAiBackend({ baseUrl: s.url, retry: { baseDelayMs: 10 } })
    await b.loadModel('whisper-1')
    const r = await b.transcribe(audio, WHISPER_SAMPLE_RATE)
    expect(r.text).toBe('hello there')
    expect(r.language).toBe('en')
    expect(s.hits).toHaveLength(2)
    expect(s.hits[1]! - s.hits[0]!).toBeGreaterThanOrEqual(950)
    await b.close()
    await s.close()
  })

  it('gives up after its retries with a retryable backend_failed; 429s back off with jitter', async () => {
    const s = await scripted([json(429, { error: { message: 'slow down' } })])
    const b = new OpenAiBackend({ baseUrl: s.url, retry: { retries: 2, baseDelayMs: 20 } })
    await b.loadModel('whisper-1')
    const err = await b.transcribe(audio, WHISPER_SAMPLE_RATE).catch((e: unknown) => e)
    expect(isWsError(err, 'backend_failed') && err.retryable).toBe(true)
    expect((err as Error).message).toContain('slow down')
    expect(s.hits).toHaveLength(3)
    await b.close()
    await s.close()
  })

  it('does not retry what cannot succeed: 401 unauthorized, 404 model_not_found, 400 backend_failed', async () => {
    for (const [status, code] of [
      [401, 'unauthorized'],
      [404, 'model_not_found'],
      [400, 'backend_failed'],
    ] as const) {
      const s = await scripted([json(status, { error: { message: 'no' } })])
      const b = new OpenAiBackend({ baseUrl: s.url, retry: { baseDelayMs: 1 } })
      await b.loadModel('whisper-1')
      expect(await codeOf(b.transcribe(audio, WHISPER_SAMPLE_RATE))).toBe(code)
      expect(s.hits).toHaveLength(1)
      await b.close()
      await s.close()
    }
  })

  it('keeps at most `concurrency` requests in flight, times out a silent server, and stops at abort', async () => {
    const slow = await scripted([(_, res) => setTimeout(() => ok(_, res), 150)])
    const b = new OpenAiBackend({ baseUrl: slow.url, concurrency: 2 })
    await b.loadModel('whisper-1')
    const results = await Promise.all(
      Array.from({ length: 6 }, () => b.transcribe(audio, WHISPER_SAMPLE_RATE)),
    )
    expect(results.every((r) => r.text === 'hello there')).toBe(true)
    expect(slow.maxInFlight()).toBe(2)
    const abort = new AbortController()
    const pending = b.transcribe(audio, WHISPER_SAMPLE_RATE, { signal: abort.signal })
    setTimeout(() => abort.abort(), 20)
    expect(await codeOf(pending)).toBe('aborted')
    await b.close()
    await slow.close()

    const silent = await scripted([() => {}])
    const t = new OpenAiBackend({
      baseUrl: silent.url,
      timeoutMs: 200,
      retry: { retries: 1, baseDelayMs: 1 },
    })
    await t.loadModel('whisper-1')
    const err = await t.transcribe(audio, WHISPER_SAMPLE_RATE).catch((e: unknown) => e)
    expect(isWsError(err, 'backend_failed')).toBe(true)
    expect((err as Error).message).toContain('no answer in 200 ms')
    expect(silent.hits).toHaveLength(2)
    await t.close()
    await silent.close()
  })

  it('refuses word times where the server offers none, and an unreachable server at load', async () => {
    const plain = await scripted([(_req, res) => res.end('{"text":""}')])
    const b = new OpenAiBackend({ baseUrl: plain.url, wordTimestamps: false })
    await b.loadModel('tiny.en')
    expect(await codeOf(b.transcribe(audio, WHISPER_SAMPLE_RATE, { wordTimestamps: true }))).toBe(
      'invalid_config',
    )
    await b.close()
    expect(await codeOf(new OpenAiBackend({ baseUrl: 'http://127.0.0.1:9/v1' }).loadModel('x'))).toBe(
      'model_load_failed',
    )
    expect(() => new OpenAiBackend({ baseUrl: 'nope' })).toThrow(/baseUrl/)
    expect(plain.hits).toHaveLength(0)
    await plain.close()
  })
})
