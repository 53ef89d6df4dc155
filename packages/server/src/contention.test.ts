import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, noopLogger } from '@ws/core'
import { composeUtterances, realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from './server.js'
import { TestClient } from './test-client.js'

// Real sockets, the real whisper.cpp backend with tiny.en at its defaults (`finalWindow:
// 'auto'`), the real WebRTC VAD, real speech (two of Asterisk's English telephone prompts).
const SR = 16_000
const fixtures = realSpeechFixtures('real-en').slice(0, 2)
const { audio } = composeUtterances(fixtures, [1], { leadSeconds: 0.3, trailSeconds: 0.8 })
const reference = fixtures.map((f) => f.text).join(' ')

let backend: WhisperCppBackend
let server: WhisperStreamServer
/** The encoder window of each final the backend decoded (0: the full 30 s one), from its log. */
const finalWindows: number[] = []
const { child: _, ...rest } = noopLogger
const logger = {
  ...rest,
  debug: (details: object | string, message?: string) => {
    if (typeof details !== 'object' || message !== 'transcribed') return
    const d = details as { preview: boolean; audioCtx: number }
    if (!d.preview) finalWindows.push(d.audioCtx)
  },
}

/** A metric's value in the Prometheus text of the server (0 when absent). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line ? Number(line.split(' ')[1]) : 0
}

/** `count` sessions of the same audio at once, at real time, on `prompt`, revisions off. */
async function together(count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = new TestClient(
        `${server.url.replace(/^http/, 'ws')}/ws/transcribe/prompt?revisions=false`,
      )
      await client.next('ready')
      await client.stream(audio, { speed: 1 })
      await client.end()
      return client
    }),
  )
}

beforeAll(async () => {
  const { pino } = await import('pino')
  backend = new WhisperCppBackend({ logger })
  await backend.loadModel('tiny.en')
  // Admission by measured load is tested in limits.test.ts; here three sessions always fit.
  server = createServer({ backend, port: 0, logger: pino({ level: 'silent' }), maxLoad: 8 })
  await server.listen()
}, 300_000)

afterAll(async () => {
  await server?.close()
  await backend?.close()
})

describe('finals that contend for the engine', () => {
  it('a lone session’s finals are never busy; three at once end utterances together and those that wait for another are', async () => {
    const offline = (await backend.transcribe(audio, SR)).text
    finalWindows.length = 0
    const [alone] = await together(1)
    expect(await metric('ws_finals_busy_total')).toBe(0)
    expect(alone!.of('final')).toHaveLength(2)
    expect(finalWindows.length).toBeGreaterThan(0)
    expect(finalWindows.every((w) => w === 0)).toBe(true) // all on the full window
    finalWindows.length = 0
    const clients = await together(3)
    const busy = await metric('ws_finals_busy_total')
    const fitted = finalWindows.filter((w) => w > 0).length
    console.log(
      `three sessions at once: ${busy} busy finals, ${fitted} of ${finalWindows.length} decodes fitted`,
    )
    expect(busy).toBeGreaterThan(0)
    expect(fitted).toBeGreaterThan(0) // the busy ones, on the window fitted to their audio
    expect(finalWindows.some((w) => w === 0)).toBe(true) // the first of each queue: full
    // Nothing is lost, and a busy final (the fitted window) still reads the speech.
    const wer = (text: string) => corpusWordErrorRate([{ reference, hypothesis: text }])
    for (const client of [alone!, ...clients]) {
      expect(client.of('final')).toHaveLength(2)
      expect(client.of('error')).toHaveLength(0)
      expect(wer(client.text)).toBeLessThanOrEqual(Math.max(0.15, wer(offline) + 0.1))
    }
  }, 180_000)
})
