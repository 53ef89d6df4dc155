import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { CLOSE_CODES, type InferenceScheduler, type Logger, requestUrl, toWsError, WsError } from '@ws/core'
import { refuseUpgrade } from '@ws/core/node'
import { pino } from 'pino'
import { WebSocketServer } from 'ws'
import { Connection } from './connection.js'
import { STATIC_FILES } from './demo-files.js'
import { createEngine, type Engine, schedulerFor } from './engine.js'
import { ServerMetrics } from './metrics.js'
import { type ResolvedServerOptions, resolveServerOptions, type ServerOptions } from './options.js'
import type { WireProtocol } from './protocols/protocol.js'
import { carriesToken, protocolFor, refusalStatus, routeOf, selectProtocol } from './protocols/route.js'
import { handleTranscription, OPENAI_REST_TASKS, sendApiError } from './rest.js'
import { handleDeepgramListen } from './rest-deepgram.js'
import { RestJobs } from './rest-jobs.js'
import { connectionsRefusal, SessionSlots } from './slots.js'
import type { ClientSocket } from './socket-data.js'
import { startWyoming, type WyomingListener } from './wyoming-listener.js'

/** What listen() makes: everything a request needs. */
interface Live {
  engine: Engine
  scheduler: InferenceScheduler
  slots: SessionSlots
  jobs: RestJobs
  metrics: ServerMetrics
  http: Server
  wss: WebSocketServer
  wyoming?: WyomingListener
}

/**
 * The transcription server: WebSocket streaming at `/ws/transcribe/{strategy}`, OpenAI Realtime
 * at `/v1/realtime`, Deepgram live at `/v1/listen`; REST at `/v1/audio/transcriptions`,
 * `/v1/audio/translations` and Deepgram's `POST /v1/listen`; `/health`, `/ready`, `/metrics`, and the demo page at `/`.
 * With `wyomingPort`, Wyoming speech-to-text (Home Assistant) over TCP as well.
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
  #live: Live | undefined
  readonly #connections = new Set<Connection>()
  #state: 'new' | 'starting' | 'listening' | 'closing' | 'closed' = 'new'
  /** Closing, and still taking sessions while load balancers see `/ready` fail. */
  #draining = false
  #closing: Promise<void> | undefined

  constructor(options: ServerOptions = {}) {
    this.options = resolveServerOptions(options)
    this.logger =
      this.options.logger ??
      (pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'ws-server' }) as unknown as Logger)
  }

  /** Sessions transcribing now (holding a slot: they sent audio and did not go quiet). */
  get sessions(): number {
    return this.#live?.slots.held ?? 0
  }

  /** Open connections (WebSocket and Wyoming), transcribing or not. */
  get connections(): number {
    return this.#connections.size
  }

  get metrics(): ServerMetrics | undefined {
    return this.#live?.metrics
  }

  get scheduler(): InferenceScheduler | undefined {
    return this.#live?.scheduler
  }

  get engine(): Engine | undefined {
    return this.#live?.engine
  }

  address(): AddressInfo | null {
    const a = this.#live?.http.address()
    return a && typeof a === 'object' ? a : null
  }

  /** The Wyoming TCP port's address (`wyomingPort`), or null when it is off. */
  wyomingAddress(): AddressInfo | null {
    return this.#live?.wyoming?.address() ?? null
  }

  /** The base URL, e.g. `http://127.0.0.1:8765` (`https:` with TLS); empty before `listen()`. */
  get url(): string {
    const a = this.address()
    if (!a) return ''
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
    const scheme = this.options.tlsCert ? 'https' : 'http'
    return `${scheme}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${a.port}`
  }

  /** Loads the backend's model (provisioning it on first run), then listens. */
  async listen(): Promise<AddressInfo> {
    if (this.#state !== 'new') throw new WsError('invalid_config', 'listen() may be called once')
    this.#state = 'starting'
    const o = this.options
    const engine = await createEngine(o, this.logger)
    const scheduler = schedulerFor(engine, o.maxLoad)
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxMessageBytes * 4,
      perMessageDeflate: false,
      handleProtocols: selectProtocol,
    })
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#route(req, res)
    const http = o.tlsCert
      ? createHttpsServer({ cert: await readFile(o.tlsCert), key: await readFile(o.tlsKey!) }, handler)
      : createHttpServer(handler)
    http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head))
    const slots = new SessionSlots(o.maxClients, scheduler)
    const metrics = new ServerMetrics(scheduler, {
      slots: () => slots.held,
      connections: () => this.#connections,
      realTimeFactor: () => engine.speed?.realTimeFactor,
    })
    this.#live = { engine, scheduler, slots, jobs: new RestJobs(o.maxRestJobs), metrics, http, wss }
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(o.port, o.host, () => {
        http.off('error', reject)
        resolve()
      })
    })
    const live = this.#live
    if (o.wyomingPort !== undefined)
      live.wyoming = await startWyoming(this, live, (s, p) => this.#accept(live, s, p)).catch((err) => {
        http.close() // the port is taken: the HTTP side does not stay up alone
        throw err
      })
    this.#state = 'listening'
    this.logger.info({ url: this.url, backend: engine.backendName, model: o.model }, 'listening')
    return this.address()!
  }

  /**
   * Drains: `/ready` answers 503 for `drainDelayMs` (sessions are still taken), then the
   * server stops accepting, lets open sessions finalise what they received (up to
   * `shutdownGraceMs`), sends each `session_end`, closes them with 1001, and releases the
   * backend. Idempotent. `drainDelayMs` here overrides the option (e.g. 0 on Ctrl-C).
   */
  close(options: { drainDelayMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.drainDelayMs ?? this.options.drainDelayMs)
    return this.#closing
  }

  async #close(drainDelayMs: number): Promise<void> {
    if (this.#state === 'listening' && drainDelayMs > 0) {
      this.#draining = true
      this.logger.info({ sessions: this.#connections.size, drainDelayMs }, 'draining: /ready answers 503')
      await new Promise((resolve) => setTimeout(resolve, drainDelayMs))
    }
    const wasListening = this.#state === 'listening'
    this.#state = 'closing'
    const live = this.#live
    const http = live?.http
    const stopped = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve()
    const wyomingClosed = live?.wyoming?.close()
    http?.closeIdleConnections()
    if (wasListening) this.logger.info({ sessions: this.#connections.size }, 'shutting down')
    const grace = this.options.shutdownGraceMs
    const shutdown = new WsError('server_busy', 'The server is shutting down', { retryable: true })
    // REST calls finish within the same grace, or are stopped and answered with a typed 503.
    const restDone = live?.jobs.close(grace, shutdown)
    const finishing = Promise.all(
      [...this.#connections].map((c) => c.finish(CLOSE_CODES.goingAway, 'server shutting down', 'shutdown')),
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
      live?.wyoming?.destroyAll()
    }
    await restDone
    live?.wss.close()
    http?.closeAllConnections()
    await Promise.all([stopped, wyomingClosed])
    await Promise.all([live?.engine.speakers.close(), live?.engine.owned && live.engine.backend.close()])
    this.#state = 'closed'
  }

  // ---- HTTP -------------------------------------------------------------------------------

  /** The server's token, in any place a protocol carries its key (see `credentialsOf`). */
  #authorized(req: IncomingMessage, url: URL): boolean {
    const token = this.options.authToken
    return !token || carriesToken(req, url, token)
  }

  /** `/metrics` and `/v1/models`: public unless `publicInfo` is false under a token. */
  #publicOrAuthorized(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    if (this.options.publicInfo || this.#authorized(req, url)) return true
    this.#live?.metrics.refusals.inc({ reason: 'auth' })
    sendApiError(res, new WsError('unauthorized', 'A valid token is needed (Authorization: Bearer …)'))
    return false
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Requests reach this handler only after listen() made it all.
    const live = this.#live as Live
    const url = requestUrl(req.url)
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
            const ready = this.#state === 'listening' && !this.#draining
            return json(ready ? 200 : 503, {
              status: ready
                ? 'ready'
                : this.#draining && this.#state === 'listening'
                  ? 'draining'
                  : this.#state,
              backend: live.engine.backendName,
              model: this.options.model,
              sessions: live.slots.held,
              connections: this.#connections.size,
            })
          }
          case '/metrics': {
            if (!this.#publicOrAuthorized(req, url, res)) return
            const registry = live.metrics.registry
            res.writeHead(200, { 'content-type': registry.contentType })
            res.end(await registry.metrics())
            return
          }
          case '/v1/models':
            if (!this.#publicOrAuthorized(req, url, res)) return
            return json(200, {
              object: 'list',
              data: [{ id: this.options.model, object: 'model', owned_by: live.engine.backendName }],
            })
        }
        const file = this.options.demo ? STATIC_FILES[url.pathname] : undefined
        if (file) {
          const body = await readFile(file[0])
          res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' })
          res.end(req.method === 'HEAD' ? undefined : body)
          return
        }
      }
      const rest = {
        engine: live.engine,
        scheduler: live.scheduler,
        metrics: live.metrics,
        maxUploadBytes: this.options.maxUploadBytes,
        maxFileSeconds: this.options.maxFileSeconds,
        jobs: live.jobs,
        logger: this.logger,
      }
      if (req.method === 'POST' && url.pathname === '/v1/listen') {
        const closing = this.#state !== 'listening'
        await handleDeepgramListen(req, res, { ...rest, authorized: this.#authorized(req, url), closing })
        return
      }
      const task = OPENAI_REST_TASKS[url.pathname]
      if (req.method === 'POST' && task) {
        if (!this.#authorized(req, url)) {
          live.metrics.refusals.inc({ reason: 'auth' })
          sendApiError(res, new WsError('unauthorized', 'A valid token is needed (Authorization: Bearer …)'))
          return
        }
        if (this.#state !== 'listening') {
          sendApiError(res, new WsError('server_busy', 'The server is shutting down', { retryable: true }))
          return
        }
        await handleTranscription(req, res, rest, { task })
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

  /**
   * Checks a WebSocket upgrade before the handshake (as ws's `handleUpgrade` / `abortHandshake`
   * do): a refusal is a plain HTTP response with a status, `Retry-After` where waiting helps,
   * and the protocol's error message as its JSON body; no socket is ever opened for it.
   */
  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = requestUrl(req.url)
    const refusal = this.#refusal(req, url)
    if ('refuse' in refusal) {
      const { reason, error, status, retryAfterMs } = refusal.refuse
      this.#live?.metrics.refusals.inc({ reason })
      this.logger.info({ reason, code: error.code }, 'connection refused')
      refuseUpgrade(socket, status, error, retryAfterMs)
      return
    }
    const live = refusal.live
    live.wss.handleUpgrade(req, socket, head, (ws) => this.#accept(live, ws, refusal.protocol))
  }

  #refusal(
    req: IncomingMessage,
    url: URL,
  ):
    | { refuse: { reason: string; error: WsError; status: number; retryAfterMs?: number } }
    | { live: Live; protocol: WireProtocol } {
    const refuse = (reason: string, error: WsError, status: number, retryAfterMs?: number) => ({
      refuse: { reason, error, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    })
    let route: ReturnType<typeof routeOf>
    try {
      route = routeOf(url.pathname)
    } catch (err) {
      return refuse('path', toWsError(err), 404)
    }
    if (!this.#authorized(req, url)) {
      const error = new WsError(
        'unauthorized',
        'A valid token is needed (?token=… or Authorization: Bearer …)',
      )
      return refuse('auth', error, 401)
    }
    const live = this.#live
    if (this.#state !== 'listening' || !live) {
      return refuse(
        'draining',
        new WsError('server_busy', 'The server is shutting down', { retryable: true }),
        503,
      )
    }
    // A bad query is the client's to fix, whatever the load: 400 before any 503.
    let protocol: WireProtocol
    try {
      protocol = protocolFor(route, url, req, live.engine)
    } catch (err) {
      const error = toWsError(err, 'invalid_config')
      return refuse('config', error, refusalStatus(error))
    }
    const tooMany = connectionsRefusal(this.#connections.size, this.options.maxConnections)
    if (tooMany) return refuse(tooMany.reason, tooMany.error, 503, tooMany.retryAfterMs)
    // Refused before the handshake when audio could not be transcribed now either.
    const full = live.slots.refusal()
    if (full) return refuse(full.reason, full.error, 503, full.retryAfterMs)
    return { live, protocol }
  }

  #accept(live: Live, ws: ClientSocket, protocol: WireProtocol) {
    const connection = new Connection(ws, randomUUID(), protocol, {
      engine: live.engine,
      scheduler: live.scheduler,
      metrics: live.metrics,
      options: this.options,
      logger: this.logger,
      slots: live.slots,
    })
    this.#connections.add(connection)
    live.metrics.sessionsTotal.inc({ strategy: connection.strategy })
    void connection.closed.then(() => this.#connections.delete(connection))
    connection.start()
  }
}

/** Makes a server; call `listen()` to load the model and start it. */
export function createServer(options: ServerOptions = {}): WhisperStreamServer {
  return new WhisperStreamServer(options)
}
