import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { errorMessage, noopLogger, requestUrl, WsError } from '@ws/core'
import { refuseUpgrade } from '@ws/core/node'
import { WebSocketServer } from 'ws'
import { AudioStore } from './audio-store.js'
import { type ResolvedVoiceOptions, type VoiceOptions, validateVoiceOptions } from './options.js'
import { type Conversation, VoiceSession } from './voice-session.js'

const ID = /^[0-9a-f]{32}$/
const SESSION_ID = /^[0-9a-f-]{36}$/

/**
 * The voice protocol on any Node HTTP server: `handleUpgrade` takes the WebSocket upgrades of
 * its path, `handleRequest` serves the spoken sentences. Each returns false for what is not
 * its own, so it mounts next to other routes.
 *
 * ```ts
 * const voice = new VoiceEndpoint({ backend, chat, tts })
 * http.on('upgrade', (req, socket, head) => voice.handleUpgrade(req, socket, head) || socket.destroy())
 * ```
 */
export class VoiceEndpoint {
  readonly options: ResolvedVoiceOptions
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, perMessageDeflate: false })
  readonly #sessions = new Set<VoiceSession>()
  readonly #conversations = new Map<string, { conversation: Conversation; expires: number; open: number }>()
  #closed = false

  constructor(options: VoiceOptions) {
    this.options = validateVoiceOptions(options, () => new AudioStore())
  }

  get sessions(): number {
    return this.#sessions.size
  }

  /** Takes an upgrade for the voice path (`?session_id=…` resumes a conversation); false for another path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(req.url)
    if (url.pathname !== this.options.path) return false
    if (this.#closed) {
      refuseUpgrade(
        socket,
        503,
        new WsError('server_busy', 'The voice endpoint is shutting down', { retryable: true }),
      )
      return true
    }
    if (this.#sessions.size >= this.options.maxSessions) {
      refuseUpgrade(
        socket,
        503,
        new WsError('server_busy', `The voice endpoint is full (${this.options.maxSessions} sessions)`, {
          retryable: true,
        }),
      )
      return true
    }
    const asked = url.searchParams.get('session_id')
    if (asked !== null && !SESSION_ID.test(asked)) {
      refuseUpgrade(socket, 400, new WsError('invalid_config', 'session_id is the id a ready message gave'))
      return true
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#expire()
      const kept = asked ? this.#conversations.get(asked) : undefined
      const entry = kept ?? { conversation: { id: randomUUID(), history: [] }, expires: 0, open: 0 }
      this.#conversations.set(entry.conversation.id, entry)
      entry.open++
      const session = new VoiceSession(ws, entry.conversation, this.options, kept !== undefined)
      this.#sessions.add(session)
      ws.on('close', () => {
        this.#sessions.delete(session)
        entry.open--
        entry.expires = Date.now() + this.options.conversationTtlMs
      })
    })
    return true
  }

  /** Serves `GET <audioPath><id>.wav`; false for any other request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const url = requestUrl(req.url)
    const { audioPath } = this.options
    if (!url.pathname.startsWith(audioPath)) return false
    const name = url.pathname.slice(audioPath.length)
    const id = name.endsWith('.wav') ? name.slice(0, -4) : ''
    const wav = ID.test(id) ? this.options.audio.get(id) : undefined
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !wav) {
      const error = new WsError('not_found', `No audio at ${url.pathname}`)
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify(errorMessage(error)))
      return true
    }
    res.writeHead(200, {
      'content-type': 'audio/wav',
      'content-length': wav.length,
      // The id is the content's hash: the file never changes.
      'cache-control': 'public, max-age=31536000, immutable',
    })
    res.end(req.method === 'HEAD' ? undefined : wav)
    return true
  }

  /** Stops every answer and recording and closes the sockets (1001). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const sessions = [...this.#sessions]
    await Promise.all(sessions.map((s) => s.close()))
    for (const ws of this.#wss.clients) ws.close(1001, 'server shutting down')
    this.#wss.close()
    ;(this.options.logger ?? noopLogger).info({ sessions: sessions.length }, 'voice endpoint closed')
  }

  #expire(): void {
    const now = Date.now()
    for (const [id, e] of this.#conversations)
      if (e.open === 0 && e.expires < now) this.#conversations.delete(id)
  }
}
