import { randomUUID, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import {
  CLOSE_CODES,
  errorMessage,
  InferenceScheduler,
  type Logger,
  parseQueryConfig,
  parseTranscribePath,
  toWsError,
  WsError,
} from '@ws/core'
import { pino } from 'pino'
import { type WebSocket, WebSocketServer } from 'ws'
import { Connection } from './connection.js'
import { createEngine, type Engine } from './engine.js'
import { ServerMetrics } from './metrics.js'
import { type ResolvedServerOptions, resolveServerOptions, type ServerOptions } from './options.js'
import { handleTranscription, sendApiError } from './rest.js'

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))
const STATIC_FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/worklet.js': ['worklet.js', 'text/javascript; charset=utf-8'],
}

/**
 * The transcription server: WebSocket streaming at `/ws/transcribe/{strategy}`, REST at
 * `/v1/audio/transcriptions`, `/health`, `/ready`, `/metrics`, and the demo page at `/`.
 *
 * ```ts
 * const server = createServer({ model: 'tiny.en', port: 0 })
 * const { port } = await server.listen()   // loads the model first
 * // … ws://127.0.0.1:${port}/ws/transcribe/hybrid
 * await server.close()                       // finalises open sessions, then stops
 * ```
 */
export class WhisperStreamServer {
  readonly options: ResolvedServerOptions
  readonly logger: Logger
  #engine: Engine | undefined
  #scheduler: InferenceScheduler | undefined
  #metrics: ServerMetrics | undefined
  #http: Server | undefined
  #wss: WebSocketServer | undefined
  readonly #connections = new Set<Connection>()
  #state: 'new' | 'starting' | 'listening' | 'closing' | 'closed' = 'new'
  #closing: Promise<void> | undefined

  constructor(options: ServerOptions = {}) {
    this.options = resolveServerOptions(options)
    this.logger =
      this.options.logger ??
      (pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'ws-server' }) as unknown as Logger)
  }

  /** Open streaming sessions. */
  get sessions(): number {
    return this.#connections.size
  }

  get metrics(): ServerMetrics | undefined {
    return this.#metrics
  }

  get scheduler(): InferenceScheduler | undefined {
    return this.#scheduler
  }

  get engine(): Engine | undefined {
    return this.#engine
  }

  address(): AddressInfo | null {
    const a = this.#http?.address()
    return a && typeof a === 'object' ? a : null
  }

  /** The base URL, e.g. `http://127.0.0.1:8765`; empty before `listen()`. */
  get url(): string {
    const a = this.address()
    if (!a) return ''
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
    return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${a.port}`
  }

  /** Loads the backend's model (provisioning it on first run), then listens. */
  async listen(): Promise<AddressInfo> {
    if (this.#state !== 'new') throw new WsError('invalid_config', 'listen() may be called once')
    this.#state = 'starting'
    const o = this.options
    this.#engine = await createEngine(o, this.logger)
    this.#scheduler = new InferenceScheduler({ concurrency: this.#engine.concurrency, maxLoad: o.maxLoad })
    this.#metrics = new ServerMetrics(this.#scheduler)
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxMessageBytes * 4,
      perMessageDeflate: false,
    })
    const http = createHttpServer((req, res) => void this.#route(req, res))
    http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head))
    this.#http = http
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(o.port, o.host, () => {
        http.off('error', reject)
        resolve()
      })
    })
    this.#state = 'listening'
    this.logger.info({ url: this.url, backend: this.#engine.backendName, model: o.model }, 'listening')
    return this.address()!
  }

  /**
   * Stops accepting, lets open sessions finalise what they received (up to
   * `shutdownGraceMs`), closes them with 1001, and releases the backend. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const wasListening = this.#state === 'listening'
    this.#state = 'closing'
    const http = this.#http
    const stopped = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve()
    http?.closeIdleConnections()
    if (wasListening) this.logger.info({ sessions: this.#connections.size }, 'shutting down')
    const grace = this.options.shutdownGraceMs
    const finishing = Promise.all(
      [...this.#connections].map((c) => c.finish(CLOSE_CODES.goingAway, 'server shutting down')),
    )
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      finishing.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), grace)
      }),
    ])
    clearTimeout(timer)
    if (timedOut) {
      this.logger.warn({ sessions: this.#connections.size }, 'sessions did not finish in time; closing them')
      for (const c of this.#connections) c.terminate()
    }
    this.#wss?.close()
    http?.closeAllConnections()
    await stopped
    if (this.#engine?.owned) await this.#engine.backend.close()
    this.#state = 'closed'
  }

  // ---- HTTP -------------------------------------------------------------------------------

  #authorized(req: IncomingMessage, url: URL): boolean {
    const token = this.options.authToken
    if (!token) return true
    const header = req.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token')
    if (!given) return false
    const a = Buffer.from(given)
    const b = Buffer.from(token)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    try {
      if (req.method === 'GET' || req.method === 'HEAD') {
        switch (url.pathname) {
          case '/health':
            return json(200, { status: 'ok' })
          case '/ready': {
            const ready = this.#state === 'listening'
            return json(ready ? 200 : 503, {
              status: ready ? 'ready' : this.#state,
              backend: this.#engine?.backendName,
              model: this.options.model,
              sessions: this.#connections.size,
            })
          }
          case '/metrics': {
            const registry = this.#metrics!.registry
            res.writeHead(200, { 'content-type': registry.contentType })
            res.end(await registry.metrics())
            return
          }
          case '/v1/models':
            return json(200, {
              object: 'list',
              data: [{ id: this.options.model, object: 'model', owned_by: this.#engine?.backendName }],
            })
        }
        const file = this.options.demo ? STATIC_FILES[url.pathname] : undefined
        if (file) {
          const body = await readFile(`${PUBLIC_DIR}${file[0]}`)
          res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' })
          res.end(req.method === 'HEAD' ? undefined : body)
          return
        }
      }
      if (req.method === 'POST' && url.pathname === '/v1/audio/transcriptions') {
        if (!this.#authorized(req, url)) {
          this.#metrics!.refusals.inc({ reason: 'auth' })
          sendApiError(res, new WsError('unauthorized', 'A valid token is needed (Authorization: Bearer …)'))
          return
        }
        if (this.#state !== 'listening') {
          sendApiError(res, new WsError('server_busy', 'The server is shutting down', { retryable: true }))
          return
        }
        await handleTranscription(req, res, {
          engine: this.#engine!,
          scheduler: this.#scheduler!,
          metrics: this.#metrics!,
          maxUploadBytes: this.options.maxUploadBytes,
          logger: this.logger,
        })
        return
      }
      sendApiError(res, new WsError('not_found', `Nothing at ${req.method} ${url.pathname}`))
    } catch (err) {
      this.logger.error({ err }, 'request failed')
      if (!res.headersSent) sendApiError(res, toWsError(err))
      else res.destroy()
    }
  }

  // ---- WebSocket --------------------------------------------------------------------------

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.#wss!
    wss.handleUpgrade(req, socket, head, (ws) => {
      const refuse = (reason: string, error: WsError, code: number) => {
        this.#metrics!.refusals.inc({ reason })
        this.logger.info({ reason, code: error.code }, 'connection refused')
        ws.send(JSON.stringify(errorMessage(error)))
        ws.close(code, error.code)
      }
      const url = new URL(req.url ?? '/', 'http://localhost')
      let strategy: ReturnType<typeof parseTranscribePath>
      try {
        strategy = parseTranscribePath(url.pathname)
      } catch (err) {
        return refuse('path', toWsError(err), CLOSE_CODES.policyViolation)
      }
      if (!this.#authorized(req, url)) {
        return refuse(
          'auth',
          new WsError('unauthorized', 'A valid token is needed (?token=… or Authorization: Bearer …)'),
          CLOSE_CODES.policyViolation,
        )
      }
      if (this.#state !== 'listening') {
        return refuse(
          'draining',
          new WsError('server_busy', 'The server is shutting down', { retryable: true }),
          CLOSE_CODES.tryAgainLater,
        )
      }
      const active = this.#connections.size
      if (active >= this.options.maxClients) {
        return refuse(
          'capacity',
          new WsError('server_busy', `The server is full (${this.options.maxClients} sessions)`, {
            retryable: true,
          }),
          CLOSE_CODES.tryAgainLater,
        )
      }
      if (!this.#scheduler!.canAdmit(active)) {
        return refuse(
          'load',
          new WsError(
            'server_busy',
            `The backend cannot keep up with one more real-time session (${active} open, real-time factor ${this.#scheduler!.finalRtf?.toFixed(2)})`,
            { retryable: true },
          ),
          CLOSE_CODES.tryAgainLater,
        )
      }
      let config: ReturnType<typeof parseQueryConfig>
      try {
        config = parseQueryConfig(url.searchParams)
      } catch (err) {
        return refuse('config', toWsError(err, 'invalid_config'), CLOSE_CODES.policyViolation)
      }
      this.#accept(ws, strategy, config)
    })
  }

  #accept(
    ws: WebSocket,
    strategy: ReturnType<typeof parseTranscribePath>,
    config: ReturnType<typeof parseQueryConfig>,
  ) {
    const connection = new Connection(ws, randomUUID(), strategy, config, {
      engine: this.#engine!,
      scheduler: this.#scheduler!,
      metrics: this.#metrics!,
      options: this.options,
      logger: this.logger,
    })
    this.#connections.add(connection)
    const m = this.#metrics!
    m.sessionsActive.set(this.#connections.size)
    m.sessionsTotal.inc({ strategy })
    void connection.closed.then(() => {
      this.#connections.delete(connection)
      m.sessionsActive.set(this.#connections.size)
    })
    connection.start()
  }
}

/** Makes a server; call `listen()` to load the model and start it. */
export function createServer(options: ServerOptions = {}): WhisperStreamServer {
  return new WhisperStreamServer(options)
}
