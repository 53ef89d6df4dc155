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

  it('refuses a session the backend could not keep up with (admission from the cost of a second of audio)', async () => {
    const backend = new FakeBackend({ voice, delayMs: 900 })
    const server = await serverWith(backend, { maxClients: 10, maxLoad: 1.1, partialIntervalMs: 0 })
    const url = `${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off`
    const first = new TestClient(url)
    await first.next('ready')
    // Two seconds of audio whose final takes 0.9 s: 0.45 s of backend per audio second.
    first.ws.send(encodePcm16le(silenceAround(voice.speak('the quick brown fox', 0, 0).audio, 2)))
    first.send({ type: 'vad_end' })
    await first.next('final')
    const cost = server.scheduler!.finalRtf!
    expect(cost).toBeGreaterThanOrEqual(0.45) // the fake's delay is a minimum
    // A connection takes a slot with its audio: 2 × 0.45 ≤ 1.1 (unless timers ran 100 ms late).
    const second = new TestClient(url)
    await second.next('ready', 10_000)
    second.ws.send(encodePcm16le(new Float32Array(1600)))
    await expect.poll(() => server.sessions).toBe(2)
    const third = new TestClient(url) // 3 × 0.45 > 1.1: refused before the handshake
    await third.closed
    expect(third.refusal?.status).toBe(503)
    const refusal = third.of('error')[0]!
    expect(refusal).toMatchObject({ code: 'server_busy', retryable: true })
    // When to ask again: when enough of the window's cost has aged out (30 s), or sooner if a
    // session ends.
    expect(refusal.retry_after_ms).toBeGreaterThanOrEqual(1000)
    expect(refusal.retry_after_ms).toBeLessThanOrEqual(31_000)
    expect(Number(third.refusal?.retryAfter)).toBe(Math.ceil(refusal.retry_after_ms! / 1000))
    await Promise.all([first.end(), second.end()])
    await expect.poll(() => server.sessions).toBe(0)
    // Nothing transcribing: admitted whatever the estimate says.
    server.scheduler!.observeFinal(10, 1)
    const alone = new TestClient(url)
    await alone.next('ready', 10_000)
    await alone.end()
    await server.close()
  })

  it('admits by audio, not by final: sessions of short commands with pauses do not look like load', async () => {
    // Each final takes 0.3 s for a 0.5 s command (0.6 per second of utterance: per final, a
    // second session would not fit 0.8); with the 1.5 s pauses, 0.15 per second of stream.
    const backend = new FakeBackend({ voice, delayMs: 300 })
    const server = await serverWith(backend, { maxClients: 10, maxLoad: 0.8, partialIntervalMs: 0 })
    const url = `${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off`
    const command = voice.speak('the quick', 0, 0).audio.subarray(0, SR / 2)
    const first = new TestClient(url)
    await first.next('ready')
    for (let i = 0; i < 4; i++) {
      first.ws.send(encodePcm16le(command))
      first.send({ type: 'vad_end' })
      first.ws.send(encodePcm16le(new Float32Array(1.5 * SR))) // the pause: no final for it
      first.send({ type: 'cancel' })
    }
    await expect.poll(() => first.of('final').length, { timeout: 10_000 }).toBe(4)
    expect(server.scheduler!.finalRtf!).toBeLessThan(0.2)
    // Three more sessions fit (4 × 0.15 ≤ 0.8); each takes its slot with audio.
    const others = [new TestClient(url), new TestClient(url), new TestClient(url)]
    for (const [i, c] of others.entries()) {
      await c.next('ready', 10_000)
      c.ws.send(encodePcm16le(command))
      await expect.poll(() => server.sessions).toBe(2 + i)
    }
    expect(server.sessions).toBe(4)
    expect(others.every((c) => c.refusal === undefined)).toBe(true)
    await Promise.all([first.end(), ...others.map((c) => c.end())])
    await server.close()
  })
})

describe('a session that cannot stop at once', () => {
  it('gives its slot back after closeTimeoutMs, and the watchdog metrics show it closing meanwhile', async () => {
    // A backend call that no abort stops (as faster-whisper's worker): it returns when told.
    let finish!: () => void
    const blocked = new Promise<void>((resolve) => {
      finish = resolve
    })
    let running = 0
    const backend = new FakeBackend({
      respond: async () => {
        running++
        await blocked
        return []
      },
    })
    const server = await serverWith(backend, { maxClients: 1, partialIntervalMs: 0, closeTimeoutMs: 1000 })
    const url = `${server.url.replace('http', 'ws')}/ws/transcribe/prompt?vad=off&revisions=false`
    const client = new TestClient(url)
    await client.next('ready')
    client.ws.send(encodePcm16le(voice.speak('the quick brown fox', 0, 0).audio))
    client.send({ type: 'vad_end' })
    await expect.poll(() => running).toBe(1)
    client.ws.terminate()
    const gauge = async (name: string) =>
      (await server.metrics!.registry.getMetricsAsJSON()).find((m) => m.name === name)!.values[0]!.value
    await expect.poll(() => gauge('ws_sessions_closing')).toBe(1)
    await expect.poll(() => gauge('ws_sessions_closing_oldest_seconds')).toBeGreaterThan(0.2)
    // The slot comes back after the bound, while the call still runs; the next client is served.
    await expect.poll(() => [server.sessions, server.connections], { timeout: 5000 }).toEqual([0, 0])
    expect(await gauge('ws_sessions_closing')).toBe(0)
    expect(server.scheduler!.stats.running).toBe(1) // its turn ends when the call does
    const next = new TestClient(url)
    await next.next('ready')
    finish()
    next.ws.send(encodePcm16le(voice.speak('jumps over', 0, 0).audio))
    expect((await next.end()).code).toBe(CLOSE_CODES.normal)
    expect(server.scheduler!.stats.running).toBe(0)
    await server.close()
  })
})

/** `audio` followed by silence up to `seconds`. */
function silenceAround(audio: Float32Array, seconds: number): Float32Array {
  const out = new Float32Array(Math.max(audio.length, Math.round(seconds * SR)))
  out.set(audio)
  return out
}
