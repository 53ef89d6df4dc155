import { encodePcm16le, type ServerMessage } from '@ws/core'
import { WebSocket } from 'ws'

/** A minimal protocol client for the server's tests (the SDK is `@ws/client`). */
export class TestClient {
  readonly ws: WebSocket
  readonly messages: ServerMessage[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly opened: Promise<void>
  /** An upgrade the server refused before the handshake: its HTTP status and `Retry-After`. */
  refusal: { status: number; retryAfter: string | undefined } | undefined
  #waiters: { test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = []

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
    this.opened.catch(() => {}) // a refused upgrade: the caller reads `refusal` instead
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    this.ws.on('error', () => {})
    this.ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => {
        this.refusal = { status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }
        this.messages.push(JSON.parse(body) as ServerMessage)
        this.ws.terminate()
      })
    })
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame')
      const message = JSON.parse(data.toString()) as ServerMessage
      this.messages.push(message)
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.test(message)) return true
        w.resolve(message)
        return false
      })
    })
  }

  /** The first message (already received or coming) that passes `test`. */
  next<T extends ServerMessage['type']>(
    type: T,
    timeoutMs = 60_000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const test = (m: ServerMessage) => m.type === type
    const seen = this.messages.find(test)
    if (seen) return Promise.resolve(seen as Extract<ServerMessage, { type: T }>)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${type} message within ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m as Extract<ServerMessage, { type: T }>)
        },
      })
      // A socket that closes first (a refused upgrade, a dropped session) answers at once.
      void this.closed.then(({ code }) => {
        clearTimeout(timer)
        const seen = this.messages.find(test)
        if (seen) return resolve(seen as Extract<ServerMessage, { type: T }>)
        const error = this.of('error').at(-1)
        const why = this.refusal ? `refused with HTTP ${this.refusal.status}` : `closed with ${code}`
        reject(new Error(`no ${type} message: ${why}${error ? ` (${error.code}: ${error.message})` : ''}`))
      })
    })
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<ServerMessage, { type: T }>[]
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /**
   * Sends 16 kHz audio as PCM16 binary frames of `frameMs`; `speed` is a multiple of real
   * time (Infinity: as fast as the socket takes it). `onFrame(sampleOffset)` runs before each.
   */
  async stream(
    audio: Float32Array,
    options: { frameMs?: number; speed?: number; onFrame?: (offset: number) => void } = {},
  ): Promise<void> {
    const frame = Math.round(((options.frameMs ?? 20) * 16_000) / 1000)
    const speed = options.speed ?? Infinity
    const started = performance.now()
    for (let offset = 0; offset < audio.length; offset += frame) {
      options.onFrame?.(offset)
      this.ws.send(encodePcm16le(audio.subarray(offset, offset + frame)))
      if (Number.isFinite(speed)) {
        const due = started + ((offset + frame) / 16_000) * (1000 / speed)
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      } else if (offset % (frame * 50) === 0) {
        await new Promise((r) => setImmediate(r))
      }
    }
  }

  /** Sends `end` and waits for the server to close the socket. */
  async end(): Promise<{ code: number; reason: string }> {
    this.send({ type: 'end' })
    return this.closed
  }

  /** The finals' text, in order. */
  get text(): string {
    return this.of('final')
      .map((m) => m.text.trim())
      .filter(Boolean)
      .join(' ')
  }
}

/**
 * The status line of a request sent as raw bytes, so the target reaches the server as written
 * (`//` included), optionally as a WebSocket upgrade.
 */
export async function rawStatus(base: string, target: string, upgrade = false): Promise<number> {
  const { connect } = await import('node:net')
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const headers = upgrade
        ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
        : 'Connection: close\r\n'
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\n${headers}\r\n`)
    })
    let data = ''
    socket.on('data', (d) => {
      data += d
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (m) {
        socket.destroy()
        resolve(Number(m[1]))
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(0))
  })
}
