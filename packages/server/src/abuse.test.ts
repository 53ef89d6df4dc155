import { CLOSE_CODES, encodePcm16le } from '@ws/core'
import { FakeBackend, SyntheticVoice } from '@ws/core/testing'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from './server.js'
import { rawStatus, TestClient } from './test-client.js'

// Clients that misbehave, on real sockets (the server's logic: a fake backend that hears a
// synthetic voice; leave.test.ts has clients leaving a real whisper.cpp backend).
const voice = new SyntheticVoice({
  vocabulary: ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'then', 'runs', 'away'],
})
const SR = 16_000

async function serverWith(options: Parameters<typeof createServer>[0] = {}) {
  const backend = new FakeBackend({ voice, delayMs: 20 })
  await backend.loadModel('fake')
  const server = createServer({
    backend,
    port: 0,
    logger: pino({ level: 'silent' }),
    partialIntervalMs: 0,
    ...options,
  })
  await server.listen()
  return server
}

const wsUrl = (s: WhisperStreamServer, query = 'vad=off') =>
  `${s.url.replace(/^http/, 'ws')}/ws/transcribe/prompt?${query}`

describe('a client that sends garbage and never reads', () => {
  it('gets a typed error per invalid message up to maxInvalidMessages, then close 1008; others are unaffected', async () => {
    const server = await serverWith({ maxInvalidMessages: 20 })
    const flooder = new TestClient(wsUrl(server))
    await flooder.next('ready')
    const honest = new TestClient(wsUrl(server))
    await honest.next('ready')
    // Ten thousand one-byte frames (PCM16 needs two bytes a sample), sent without waiting.
    for (let i = 0; i < 10_000; i++) flooder.ws.send(Buffer.from([1]))
    const closed = await flooder.closed
    expect(closed.code).toBe(CLOSE_CODES.policyViolation)
    const errors = flooder.of('error')
    expect(errors).toHaveLength(20)
    expect(errors.every((e) => e.code === 'invalid_audio')).toBe(true)
    expect(errors.at(-1)!.message).toMatch(/20 invalid messages/)
    // The other session transcribes as before.
    const speech = voice.speak('the quick brown fox', 100, 100)
    honest.ws.send(encodePcm16le(speech.audio))
    await honest.end()
    expect(honest.text).toBe(speech.text)
    await expect.poll(() => server.connections).toBe(0)
    await server.close()
  })
})

describe('sockets that hold no audio', () => {
  it('take no session slot: keepalive-only sockets stay open while others transcribe in every slot', async () => {
    const server = await serverWith({ maxClients: 2, noAudioTimeoutS: 1 })
    // Four squatters sending only keepalives, each faster than the 1 s no-audio limit.
    const squatters = [0, 1, 2, 3].map(() => new TestClient(wsUrl(server)))
    await Promise.all(squatters.map((c) => c.next('ready')))
    const beat = setInterval(() => {
      for (const c of squatters) c.send({ type: 'keepalive' })
    }, 300)
    try {
      expect(server.sessions).toBe(0)
      expect(server.connections).toBe(4)
      // Two real sessions still get both slots, and transcribe.
      const speakers = [new TestClient(wsUrl(server)), new TestClient(wsUrl(server))]
      const speech = voice.speak('jumps over the lazy dog', 100, 100)
      for (const s of speakers) {
        await s.next('ready')
        s.ws.send(encodePcm16le(speech.audio))
      }
      await expect.poll(() => server.sessions).toBe(2)
      for (const s of speakers) {
        await s.end()
        expect(s.text).toBe(speech.text)
      }
      await new Promise((resolve) => setTimeout(resolve, 1500))
      // Kept open by their keepalives past the no-audio limit, holding no slot.
      expect(squatters.every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true)
      expect(server.sessions).toBe(0)
    } finally {
      clearInterval(beat)
    }
    await Promise.all(squatters.map((c) => c.end()))
    await server.close()
  })

  it('a socket that sends nothing is closed after noAudioTimeoutS with idle_timeout', async () => {
    const server = await serverWith({ noAudioTimeoutS: 1 })
    const silent = new TestClient(wsUrl(server))
    await silent.next('ready')
    const closed = await silent.closed
    expect(closed.code).toBe(CLOSE_CODES.normal)
    expect(silent.of('error')[0]).toMatchObject({ code: 'idle_timeout' })
    expect(silent.of('error')[0]!.message).toMatch(/audio or keepalive for 1 s/)
    expect(silent.of('session_end')[0]).toMatchObject({ reason: 'timeout' })
    await server.close()
  })

  it('a session that goes quiet gets its final and gives its slot back; audio later takes one again', async () => {
    const server = await serverWith({ maxClients: 1, noAudioTimeoutS: 1 })
    const client = new TestClient(wsUrl(server))
    await client.next('ready')
    const first = voice.speak('the quick brown fox', 100, 100)
    client.ws.send(encodePcm16le(first.audio))
    await expect.poll(() => server.sessions).toBe(1)
    const beat = setInterval(() => client.send({ type: 'keepalive' }), 300)
    try {
      // No vad_end: the quiet limit finalises the open utterance.
      const final = await client.next('final', 5000)
      expect(final.text).toBe(first.text)
      await expect.poll(() => server.sessions).toBe(0)
      // Meanwhile someone else may take the only slot; here nobody does, so audio takes it again.
      const second = voice.speak('and then runs away', 100, 100)
      client.ws.send(encodePcm16le(second.audio))
      await expect.poll(() => server.sessions).toBe(1)
    } finally {
      clearInterval(beat)
    }
    await client.end()
    expect(client.of('final').map((f) => f.text)).toEqual(['the quick brown fox', 'and then runs away'])
    await server.close()
  })

  it('audio that finds every slot taken gets server_busy with Retry-After and close 1013, after its finals', async () => {
    const server = await serverWith({ maxClients: 1, noAudioTimeoutS: 1 })
    const late = new TestClient(wsUrl(server)) // connected while the slot was free
    await late.next('ready')
    const owner = new TestClient(wsUrl(server))
    await owner.next('ready')
    owner.ws.send(encodePcm16le(voice.speak('the quick brown fox', 100, 100).audio))
    await expect.poll(() => server.sessions).toBe(1)
    late.ws.send(encodePcm16le(new Float32Array(SR / 10)))
    const closed = await late.closed
    expect(closed.code).toBe(CLOSE_CODES.tryAgainLater)
    expect(late.of('error')[0]).toMatchObject({ code: 'server_busy', retryable: true })
    expect(late.of('error')[0]!.retry_after_ms).toBeGreaterThan(0)
    expect(late.of('session_end')[0]).toMatchObject({ reason: 'busy' })
    // A new connection while the slot is taken is refused before the handshake.
    const refused = new TestClient(wsUrl(server))
    await refused.closed
    expect(refused.refusal?.status).toBe(503)
    await owner.end()
    await server.close()
  })

  it('connections that reset as they are refused (a proxy giving up) leave the server up and the session going', async () => {
    const { connect } = await import('node:net')
    const server = await serverWith({ maxClients: 1 })
    const owner = new TestClient(wsUrl(server))
    await owner.next('ready')
    owner.ws.send(encodePcm16le(voice.speak('the quick brown fox', 100, 100).audio))
    await expect.poll(() => server.sessions).toBe(1)
    // Upgrade requests refused with 503, each reset by its peer as the answer goes out: the
    // refused socket had no 'error' listener, and the server process ended on ECONNRESET.
    const url = new URL(wsUrl(server))
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(
            `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
              'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          )
          socket.resetAndDestroy()
          resolve()
        })
      })
    }
    expect(await rawStatus(server.url, '/health')).toBe(200)
    owner.ws.send(encodePcm16le(voice.speak('and then runs away', 100, 100).audio))
    await owner.end()
    expect(owner.text).toBe('the quick brown fox and then runs away')
    await server.close()
  })
})

describe('malformed targets', () => {
  it('answers bad percent-encoding with 404 not_found and __proto__ with 400, like any unknown key', async () => {
    const server = await serverWith()
    expect(await rawStatus(server.url, '/ws/transcribe/%ZZ', true)).toBe(404)
    const bad = new TestClient(`${server.url.replace(/^http/, 'ws')}/ws/transcribe/%ZZ`)
    await bad.closed
    expect(bad.of('error')[0]).toMatchObject({ code: 'not_found' })
    const proto = new TestClient(wsUrl(server, '__proto__=1'))
    await proto.closed
    expect(proto.refusal?.status).toBe(400)
    expect(proto.of('error')[0]).toMatchObject({ code: 'invalid_config' })
    expect(proto.of('error')[0]!.message).toMatch(/__proto__/)
    await server.close()
  })

  it('keeps /metrics and /v1/models public under a token unless publicInfo is false', async () => {
    for (const publicInfo of [true, false]) {
      const server = await serverWith({ authToken: 'sesame', publicInfo })
      for (const path of ['/metrics', '/v1/models']) {
        expect((await fetch(`${server.url}${path}`)).status).toBe(publicInfo ? 200 : 401)
        const bearer = { headers: { authorization: 'Bearer sesame' } }
        expect((await fetch(`${server.url}${path}`, bearer)).status).toBe(200)
      }
      expect((await fetch(`${server.url}/health`)).status).toBe(200)
      await server.close()
    }
  })
})
