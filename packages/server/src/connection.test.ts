import { EventEmitter } from 'node:events'
import { CLOSE_CODES, InferenceScheduler, noopLogger, type ServerMessage } from '@ws/core'
import { FakeBackend, SyntheticVoice } from '@ws/core/testing'
import { describe, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { Connection } from './connection.js'
import type { Engine } from './engine.js'
import { ServerMetrics } from './metrics.js'
import { resolveServerOptions } from './options.js'
import { NativeProtocol } from './protocols/native.js'
import { SessionSlots } from './slots.js'
import { Speakers } from './speakers.js'

// Backpressure toward a client that does not read, with a stand-in socket whose queued
// bytes the test sets (a real socket needs megabytes queued in the kernel first).
class SlowSocket extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  bufferedAmount = 0
  sent: ServerMessage[] = []
  closedWith: number | undefined
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close(code: number) {
    this.closedWith = code
    this.readyState = 3
    queueMicrotask(() => this.emit('close', code, Buffer.from('')))
  }
  terminate() {
    this.close(1006)
  }
  paused = false
  pauses = 0
  pause() {
    this.paused = true
    this.pauses++
  }
  resume() {
    this.paused = false
  }
}

const voice = new SyntheticVoice({
  vocabulary: ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'],
})

async function open(limit: number, more: Parameters<typeof resolveServerOptions>[0] = {}, delayMs = 0) {
  const backend = new FakeBackend({ voice, delayMs })
  await backend.loadModel('fake')
  const scheduler = new InferenceScheduler()
  const engine: Engine = {
    backend,
    concurrency: 1,
    backendName: 'fake',
    model: 'fake',
    owned: false,
    createVad: async () => {
      throw new Error('no VAD in this test')
    },
    vadName: 'none',
    speakers: new Speakers({ offline: true, logger: noopLogger }),
  }
  const socket = new SlowSocket()
  const options = resolveServerOptions({ backend, maxBufferedBytes: limit, partialIntervalMs: 100, ...more })
  const connection = new Connection(
    socket as unknown as WebSocket,
    'test',
    new NativeProtocol('prompt', { vad: 'off' }),
    {
      engine,
      scheduler,
      metrics: new ServerMetrics(scheduler),
      options,
      logger: noopLogger,
      slots: new SessionSlots(options.maxClients, scheduler),
    },
  )
  connection.start()
  const send = async (text: string, frameGapMs = 5) => {
    // PCM16 of the synthetic speech, in 100 ms frames, as a client would send it.
    const f = voice.speak(text, 0, 100).audio
    const pcm = new Int16Array(f.length)
    for (let i = 0; i < f.length; i++) pcm[i] = Math.round(f[i]! * 32767)
    for (let i = 0; i < pcm.length; i += 1600) {
      socket.emit('message', Buffer.from(pcm.buffer, i * 2, Math.min(1600, pcm.length - i) * 2), true)
      await new Promise((r) => setTimeout(r, frameGapMs))
    }
  }
  return { socket, connection, send, backend }
}

describe('backpressure toward a slow reader', () => {
  it('skips partials while the client is behind, never finals', async () => {
    const { socket, connection, send } = await open(1024)
    await send('one two three four')
    const partialsWhileReading = socket.sent.filter((m) => m.type === 'partial').length
    expect(partialsWhileReading).toBeGreaterThan(0)
    socket.bufferedAmount = 2048 // the client stopped reading
    await send('five six seven eight')
    socket.emit('message', Buffer.from(JSON.stringify({ type: 'end' })), false)
    await connection.closed
    expect(socket.sent.filter((m) => m.type === 'partial').length).toBe(partialsWhileReading)
    const finals = socket.sent.filter((m) => m.type === 'final')
    expect(finals.map((f) => f.type === 'final' && f.text).join(' ')).toBe(
      'one two three four five six seven eight',
    )
    expect(socket.closedWith).toBe(CLOSE_CODES.normal)
  })

  it('closes a client that stopped reading altogether with slow_consumer', async () => {
    const { socket, connection, send } = await open(1024)
    await send('one two')
    socket.bufferedAmount = 9000 // over 8 × the limit
    await send('three four five six')
    await connection.closed
    const error = socket.sent.find((m) => m.type === 'error')
    expect(error).toMatchObject({ code: 'slow_consumer' })
    expect(socket.closedWith).toBe(CLOSE_CODES.policyViolation)
  })
})

describe('backpressure toward a fast sender', () => {
  it('stops reading while the backend is behind, resumes when its finals are in, and loses nothing', async () => {
    // One-second utterances, 300 ms a transcription, audio far faster than real time: the
    // finals waiting pass maxPendingS.
    const { socket, connection, send } = await open(
      1 << 20,
      { maxPendingS: 1, maxUtteranceS: 1, partialIntervalMs: 0 },
      300,
    )
    const text = 'one two three four five six seven eight one two three four five six seven eight'
    await send(text, 0)
    expect(socket.pauses).toBeGreaterThan(0)
    // Told by the session, not at the end: reading resumes while the stream is still open.
    await vi.waitFor(() => expect(socket.paused).toBe(false), { timeout: 10_000, interval: 20 })
    socket.emit('message', Buffer.from(JSON.stringify({ type: 'end' })), false)
    await connection.closed
    expect(socket.paused).toBe(false)
    const finals = socket.sent.filter((m) => m.type === 'final')
    for (let i = 1; i < finals.length; i++)
      expect(finals[i]!.audio_start).toBeCloseTo(finals[i - 1]!.audio_end, 6)
    expect(socket.sent.filter((m) => m.type === 'error')).toEqual([])
  })
})

describe('revisions on the server', () => {
  it("decode with the server's reviseBeamSize; finals and partials keep the backend's own beam", async () => {
    const { socket, connection, send, backend } = await open(1 << 20, { reviseBeamSize: 3 })
    await send('one two three four')
    socket.emit('message', Buffer.from(JSON.stringify({ type: 'end' })), false)
    await connection.closed
    expect(socket.sent.filter((m) => m.type === 'revision')).toHaveLength(1)
    const revisions = backend.calls.filter((c) => c.options.background === true)
    expect(revisions.map((c) => c.options.beamSize)).toEqual([3])
    const others = backend.calls.filter((c) => c.options.background !== true)
    expect(others.length).toBeGreaterThan(0)
    expect(others.every((c) => c.options.beamSize === undefined)).toBe(true)
  })
})
