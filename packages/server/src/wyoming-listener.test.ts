import { connect, type Socket } from 'node:net'
import { encodePcm16le } from '@ws/core'
import { EnergyVad, FakeBackend, SyntheticVoice } from '@ws/core/testing'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { ServerOptions } from './options.js'
import { encodeWyomingEvent, type WyomingEvent, WyomingFrameParser } from './protocols/wyoming-framing.js'
import { createServer, type WhisperStreamServer } from './server.js'

// The Wyoming port with a fake backend and an energy VAD (the official client against the real
// model is in protocols/wyoming.client.test.ts): the session's end, admission, bad streams and
// the server's close.
const voice = new SyntheticVoice({
  vocabulary: ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'then', 'runs', 'away'],
})
const FORMAT = { rate: 16_000, width: 2, channels: 1 }
const servers: WhisperStreamServer[] = []

async function serve(options: ServerOptions = {}) {
  const backend = new FakeBackend({ voice })
  await backend.loadModel('fake')
  const server = createServer({
    backend,
    vad: async () => new EnergyVad(),
    port: 0,
    wyomingPort: 0,
    partialIntervalMs: 0,
    logger: pino({ level: 'silent' }),
    ...options,
  })
  servers.push(server)
  await server.listen()
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ drainDelayMs: 0 })))
})

/** A raw Wyoming client: the events it received, and whether the server ended the stream. */
class Client {
  readonly socket: Socket
  readonly events: WyomingEvent[] = []
  readonly ended: Promise<void>
  #waiters: (() => void)[] = []

  constructor(server: WhisperStreamServer) {
    this.socket = connect(server.wyomingAddress()!.port, '127.0.0.1')
    const parser = new WyomingFrameParser()
    this.socket.on('data', (bytes) => {
      this.events.push(...parser.push(bytes))
      for (const w of this.#waiters.splice(0)) w()
    })
    this.socket.on('error', () => {})
    this.ended = new Promise((resolve) => this.socket.on('close', () => resolve()))
  }

  send(type: string, data: Record<string, unknown> = {}, payload?: Uint8Array): void {
    this.socket.write(encodeWyomingEvent({ type, data, ...(payload ? { payload } : {}) }))
  }

  audio(samples: Float32Array): void {
    for (let i = 0; i < samples.length; i += 1600)
      this.send('audio-chunk', FORMAT, encodePcm16le(samples.subarray(i, i + 1600)))
  }

  async next(type: string): Promise<WyomingEvent> {
    for (;;) {
      const found = this.events.find((e) => e.type === type)
      if (found) return found
      if (this.socket.closed) throw new Error(`closed before ${type}: ${JSON.stringify(this.events)}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        this.socket.once('close', resolve)
      })
    }
  }

  types(): string[] {
    return this.events.map((e) => e.type)
  }
}

describe('the Wyoming port', () => {
  it('audio-stop flushes all audio: the last word, spoken to the very end, is in the transcript', async () => {
    const server = await serve()
    const client = new Client(server)
    const first = voice.speak('the quick brown fox', 300, 1200)
    const last = voice.speak('jumps over the lazy dog', 0, 0)
    client.send('transcribe', { language: 'en' })
    client.send('audio-start', FORMAT)
    client.audio(first.audio)
    client.audio(last.audio)
    client.send('audio-stop')
    await client.ended
    const types = client.types()
    expect(types[0]).toBe('transcript-start')
    expect(types.slice(-2)).toEqual(['transcript', 'transcript-stop'])
    expect(client.events.find((e) => e.type === 'transcript')!.data).toEqual({
      text: `${first.text} ${last.text}`,
      language: 'en',
    })
    const chunks = client.events.filter((e) => e.type === 'transcript-chunk')
    expect(chunks.map((c) => c.data.text)).toEqual([first.text, ` ${last.text}`])
    await expect.poll(() => server.connections).toBe(0)
    expect(server.sessions).toBe(0)
  })

  it('counts its sessions and errors in the metrics, as the WebSocket protocols do', async () => {
    const server = await serve()
    const client = new Client(server)
    client.audio(voice.speak('the lazy dog', 0, 0).audio)
    client.send('audio-stop')
    await client.ended
    const metrics = await server.metrics!.registry.metrics()
    expect(metrics).toMatch(/ws_sessions_total\{strategy="prompt"\} 1/)
    expect(metrics).toMatch(/ws_audio_seconds_total [0-9.]+/)
    const bad = new Client(server)
    bad.send('audio-start', { rate: 16_000, width: 8, channels: 1 })
    expect((await bad.next('error')).data.code).toBe('unsupported_encoding')
    await bad.ended
    expect(await server.metrics!.registry.metrics()).toMatch(
      /ws_errors_total\{code="unsupported_encoding"\} 1/,
    )
  })

  it('a stream that cannot be read gets an error event and ends; the server goes on', async () => {
    const server = await serve({ maxMessageBytes: 4096 })
    const garbage = new Client(server)
    garbage.socket.write('this is not wyoming\n')
    expect((await garbage.next('error')).data.code).toBe('invalid_frame')
    await garbage.ended
    const big = new Client(server)
    big.socket.write('{"type":"audio-chunk","payload_length":100000000}\n')
    expect((await big.next('error')).data).toMatchObject({ code: 'audio_too_large' })
    await big.ended
    const next = new Client(server)
    next.send('describe')
    expect((await next.next('info')).data.asr).toHaveLength(1)
    next.socket.end()
    await expect.poll(() => server.connections).toBe(0)
  })

  it('takes no more connections than maxConnections, WebSocket and Wyoming together', async () => {
    const server = await serve({ maxConnections: 1, maxClients: 1 })
    const first = new Client(server)
    first.send('describe')
    await first.next('info')
    const second = new Client(server)
    expect((await second.next('error')).data).toMatchObject({ code: 'server_busy' })
    await second.ended
    expect(await server.metrics!.registry.metrics()).toMatch(/ws_refusals_total\{reason="connections"\} 1/)
    first.socket.end()
  })

  it('a client that stops reading is closed as a slow consumer; another is served meanwhile', async () => {
    const server = await serve({ maxBufferedBytes: 1024 })
    const deaf = new Client(server)
    deaf.socket.pause()
    const describe = encodeWyomingEvent({ type: 'describe', data: {} })
    deaf.socket.write(Buffer.concat(Array.from({ length: 20_000 }, () => describe)))
    await expect
      .poll(async () => server.metrics!.registry.metrics(), { timeout: 10_000 })
      .toMatch(/ws_errors_total\{code="slow_consumer"\} 1/)
    const other = new Client(server)
    other.audio(voice.speak('the lazy dog', 0, 0).audio)
    other.send('audio-stop')
    await other.ended
    expect(other.events.find((e) => e.type === 'transcript')!.data.text).toBe('the lazy dog')
    // Its socket is let go once writing to it has had its time (the client, not reading, never sees it).
    await expect.poll(() => server.connections, { timeout: 10_000 }).toBe(0)
    expect(server.sessions).toBe(0)
    deaf.socket.destroy()
  }, 30_000)

  it('audio-stop with no audio answers an empty transcript', async () => {
    const server = await serve()
    const client = new Client(server)
    client.send('transcribe')
    client.send('audio-start', FORMAT)
    client.send('audio-stop')
    await client.ended
    expect(client.events.map((e) => [e.type, e.data.text])).toEqual([
      ['transcript-start', undefined],
      ['transcript', ''],
      ['transcript-stop', undefined],
    ])
  })

  it('a Wyoming port already taken fails listen(), and the HTTP port is not left open', async () => {
    const taken = await serve()
    const server = createServer({
      backend: new FakeBackend({ voice }),
      port: 0,
      wyomingPort: taken.wyomingAddress()!.port,
      logger: pino({ level: 'silent' }),
    })
    await expect(server.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(server.address()).toBeNull()
  })

  it('close() finalises a stream in progress, closes the port, and is idempotent', async () => {
    const server = await serve()
    const port = server.wyomingAddress()!.port
    const client = new Client(server)
    const speech = voice.speak('the quick brown fox jumps', 200, 0)
    client.send('audio-start', FORMAT)
    client.audio(speech.audio)
    await expect.poll(() => server.sessions).toBe(1)
    const closing = [server.close({ drainDelayMs: 0 }), server.close()]
    await client.ended
    expect(client.events.find((e) => e.type === 'transcript')!.data.text).toBe(speech.text)
    await Promise.all(closing)
    expect(server.wyomingAddress()).toBeNull()
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.on('connect', () => resolve('connected'))
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    expect(refused).toBe('ECONNREFUSED')
  })
})
