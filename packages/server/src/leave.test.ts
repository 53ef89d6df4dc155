import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate } from '@ws/core'
import { composeUtterances, loadSpeechFixtures } from '@ws/core/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from './server.js'
import { type CallKind, WatchedBackend } from './test-backend.js'
import { TestClient } from './test-client.js'

// Clients that leave mid-stream, against real sockets and the real whisper.cpp backend
// (tiny.en) on real fixtures: every way out ends with the session released, its slot given
// back and the next client served. A leaked session would fill the server's two slots.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url))
const sentences = [
  ...loadSpeechFixtures(`${FIXTURES}speech`, (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(`${FIXTURES}wer`).slice(0, 14),
]
// About a minute of speech with pauses: past one 28 s revision block.
const long = composeUtterances(
  sentences,
  sentences.slice(1).map((_, i) => 0.5 + (i % 4) * 0.25),
  { leadSeconds: 0.3, trailSeconds: 0.8 },
)

type Way = 'close' | 'terminate' | 'socket destroyed'

function leave(client: TestClient, way: Way) {
  if (way === 'close') client.ws.close()
  else if (way === 'terminate') client.ws.terminate()
  // The TCP connection drops with no WebSocket close frame at all (a crashed client, a lost network).
  else (client.ws as unknown as { _socket: { destroy(): void } })._socket.destroy()
}

let whisper: WhisperCppBackend
let backend: WatchedBackend
let server: WhisperStreamServer

// A minute for a closed session to stop before its slot is given back anyway: here every
// session must stop by itself (the bounded wait is tested in limits.test.ts).
const CLOSE_TIMEOUT_MS = 60_000

async function start(options: Parameters<typeof createServer>[0] = {}) {
  const s = createServer({
    backend,
    port: 0,
    logger: pino({ level: 'silent' }),
    maxClients: 2,
    maxLoad: 8,
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
    ...options,
  })
  await s.listen()
  return s
}

/** Every connection closed, every slot given back, nothing stuck closing. */
async function expectReleased(s: WhisperStreamServer) {
  await expect.poll(() => [s.connections, s.sessions], { timeout: 20_000, interval: 50 }).toEqual([0, 0])
  const metrics = await s.metrics!.registry.getMetricsAsJSON()
  const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value
  expect(value('ws_sessions_closing')).toBe(0)
  expect(value('ws_sessions_active')).toBe(0)
}

beforeAll(async () => {
  // Finals on the fitted window: what is checked here is that sessions end and let go, and
  // full-window finals (their accuracy is checked in tests/real-speech.test.ts) took 2.6× as long.
  whisper = new WhisperCppBackend({ finalWindow: 'fitted' })
  await whisper.loadModel('tiny.en')
  backend = new WatchedBackend(whisper)
  server = await start()
}, 300_000)

afterAll(async () => {
  await server?.close()
  await whisper?.close()
})

describe('a client that leaves mid-stream', () => {
  const url = (s: WhisperStreamServer, query: string) =>
    `${s.url.replace(/^http/, 'ws')}/ws/transcribe/prompt?${query}`

  for (const revisions of [true, false]) {
    for (const way of ['close', 'terminate', 'socket destroyed'] as const) {
      const moment: CallKind = revisions ? 'revision' : 'final'
      it(`sending faster than real time, leaving by ${way} mid-${moment} (revisions ${revisions ? 'on' : 'off'}): its session ends`, async () => {
        const started = backend.started.get(moment) ?? 0
        const client = new TestClient(url(server, `revisions=${revisions}`))
        await client.next('ready')
        void client.stream(long.audio).catch(() => {})
        // Leave while a call of that kind (a new one, of this session) is running.
        await expect
          .poll(() => (backend.started.get(moment) ?? 0) > started && backend.running(moment) > 0, {
            timeout: 60_000,
            interval: 5,
          })
          .toBe(true)
        leave(client, way)
        await expectReleased(server)
      }, 90_000)
    }
  }

  it('streaming in real time, leaving by a dropped socket mid-utterance: its session ends', async () => {
    const client = new TestClient(url(server, 'revisions=true'))
    await client.next('ready')
    const streaming = client.stream(long.audio.subarray(0, 3 * 16_000), { speed: 1 }).catch(() => {})
    await client.next('partial', 10_000)
    leave(client, 'socket destroyed')
    await streaming
    await expectReleased(server)
  }, 30_000)

  it('while its reading is paused by backpressure (the backend behind): its session ends', async () => {
    // A backend a tenth as fast as the stream: finals pile up past maxPendingS and the server
    // stops reading the socket; the client then leaves.
    const slow = await start({ maxUtteranceS: 2, maxPendingS: 2 })
    try {
      const client = new TestClient(url(slow, 'revisions=true&vad=off'))
      await client.next('ready')
      void client.stream(long.audio).catch(() => {})
      const paused = async () => (await slow.metrics!.readsPaused.get()).values[0]?.value ?? 0
      await expect.poll(paused, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0)
      leave(client, 'terminate')
      await expectReleased(slow)
    } finally {
      await slow.close()
    }
  }, 60_000)

  it('after every client above left, the server serves the next as before', async () => {
    const client = new TestClient(url(server, 'revisions=false'))
    await client.next('ready')
    const two = composeUtterances(sentences.slice(0, 2), [0.8], { leadSeconds: 0.3, trailSeconds: 0.8 })
    await client.stream(two.audio)
    await client.end()
    const reference = sentences
      .slice(0, 2)
      .map((s) => s.text)
      .join(' ')
    // tiny.en on these espeak sentences misses words offline too: streamed against offline.
    const offline = (await whisper.transcribe(two.audio, 16_000)).text
    const wer = (hypothesis: string) => corpusWordErrorRate([{ reference, hypothesis }])
    expect(client.of('final').length).toBeGreaterThanOrEqual(2)
    expect(wer(client.text)).toBeLessThanOrEqual(wer(offline) + 0.2)
    await expectReleased(server)
  }, 60_000)
})
