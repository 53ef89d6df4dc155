import { CLOSE_CODES, encodePcm16le } from '@ws/core'
import { FakeBackend, SyntheticVoice } from '@ws/core/testing'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createServer } from './server.js'
import { TestClient } from './test-client.js'

// Server logic with a fake backend (the real-backend tests are in server.test.ts): limits
// that need a backend slower than real time, and the protocol's cancel.
const voice = new SyntheticVoice({
  vocabulary: ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'then', 'runs', 'away'],
})
const SR = 16_000

async function serverWith(backend: FakeBackend, options: Parameters<typeof createServer>[0] = {}) {
  await backend.loadModel('fake')
  const server = createServer({ backend, port: 0, logger: pino({ level: 'silent' }), ...options })
  await server.listen()
  return server
}

describe('server limits', () => {
  it('stops reading a session the backend cannot keep up with, and loses nothing', async () => {
    // Each transcription takes 300 ms; utterances are cut every second: 3 s of audio sent at
    // once is far ahead of the backend.
    const backend = new FakeBackend({ voice, delayMs: 300 })
    const server = await serverWith(backend, { maxUtteranceS: 1, maxPendingS: 1, partialIntervalMs: 0 })
    const client = new TestClient(`${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off`)
    await client.next('ready')
    const speech = voice.speak('the quick brown fox jumps over the lazy dog and then runs away', 0, 0)
    const audio = speech.audio
    for (let i = 0; i < audio.length; i += 1600) client.ws.send(encodePcm16le(audio.subarray(i, i + 1600)))
    await client.end()
    const finals = client.of('final')
    // Nothing dropped: the finals tile the audio.
    expect(finals[0]!.audio_start).toBe(0)
    for (let i = 1; i < finals.length; i++)
      expect(finals[i]!.audio_start).toBeCloseTo(finals[i - 1]!.audio_end, 6)
    expect(finals.at(-1)!.audio_end).toBeCloseTo(audio.length / SR, 3)
    expect(client.text.split(' ').length).toBeGreaterThanOrEqual(speech.words.length - finals.length)
    // The backend fell behind and reading was paused (TCP then held the client back).
    expect(backend.maxConcurrency).toBe(1)
    expect((await server.metrics!.readsPaused.get()).values[0]!.value).toBeGreaterThan(0)
    expect(client.of('error')).toEqual([])
    await server.close()
  })

  it('cancel drops the current utterance and the session goes on', async () => {
    const backend = new FakeBackend({ voice })
    const server = await serverWith(backend, { partialIntervalMs: 0 })
    const client = new TestClient(`${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off`)
    await client.next('ready')
    client.ws.send(encodePcm16le(voice.speak('the quick brown fox', 0, 100).audio))
    client.send({ type: 'cancel' })
    const kept = voice.speak('jumps over the lazy dog', 0, 100)
    client.ws.send(encodePcm16le(kept.audio))
    expect((await client.end()).code).toBe(CLOSE_CODES.normal)
    expect(client.text).toBe(kept.text)
    await server.close()
  })

  it('refuses a session the backend could not keep up with (admission from the real-time factor)', async () => {
    const backend = new FakeBackend({ voice, delayMs: 400 })
    const server = await serverWith(backend, { maxClients: 10, maxLoad: 1.1, partialIntervalMs: 0 })
    const url = `${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off`
    const first = new TestClient(url)
    await first.next('ready')
    // One second of speech takes 0.4 s: a real-time factor of 0.4 after the first final.
    first.ws.send(encodePcm16le(voice.speak('the quick brown fox', 0, 0).audio.subarray(0, SR)))
    first.send({ type: 'vad_end' })
    await first.next('final')
    const rtf = server.scheduler!.finalRtf!
    expect(rtf).toBeGreaterThanOrEqual(0.4) // the fake's delay is a minimum
    const second = new TestClient(url) // 2 × rtf ≤ 1.1 (unless timers ran 150 ms late)
    await second.next('ready', 10_000)
    const third = new TestClient(url) // 3 × rtf ≥ 1.2 > 1.1: refused
    await third.closed
    expect(third.refusal?.status).toBe(503)
    const refusal = third.of('error')[0]!
    expect(refusal).toMatchObject({ code: 'server_busy', retryable: true })
    // When to ask again: when the estimate ages out (30 s) unless a final refreshes it.
    expect(refusal.retry_after_ms).toBeGreaterThanOrEqual(1000)
    expect(refusal.retry_after_ms).toBeLessThanOrEqual(30_000)
    expect(Number(third.refusal?.retryAfter)).toBe(Math.ceil(refusal.retry_after_ms! / 1000))
    await Promise.all([first.end(), second.end()])
    await expect.poll(() => server.sessions).toBe(0)
    // Nothing open: admitted whatever the estimate says (it was not refreshed in between).
    server.scheduler!.observeFinal(10, 1)
    const alone = new TestClient(url)
    await alone.next('ready', 10_000)
    await alone.end()
    await server.close()
  })
})
