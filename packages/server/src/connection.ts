import {
  CLOSE_CODES,
  DEFAULT_SESSION_CONFIG,
  decodeAudioFrame,
  decodePcm16le,
  decodePcmF32le,
  errorMessage,
  type InferenceScheduler,
  type Logger,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  type SessionConfig,
  type SessionEndMessage,
  type StrategyName,
  StreamingSession,
  sessionEventToMessage,
  streamingOptionsOf,
  toWsError,
  type VadBackend,
  WsError,
} from '@ws/core'
import type { RawData, WebSocket } from 'ws'
import type { Engine } from './engine.js'
import type { ServerMetrics } from './metrics.js'
import type { ResolvedServerOptions } from './options.js'

export interface ConnectionContext {
  engine: Engine
  scheduler: InferenceScheduler
  metrics: ServerMetrics
  options: ResolvedServerOptions
  logger: Logger
}

/**
 * One WebSocket client and its streaming session. Messages are handled one at a time, in
 * order; transcript events are sent as they come, partials skipped while the client reads
 * slowly (finals never). The session is made at the first audio or control message, so a
 * `config` message may come first.
 */
export class Connection {
  readonly id: string
  readonly strategy: StrategyName
  readonly #ws: WebSocket
  readonly #ctx: ConnectionContext
  readonly #log: Logger
  #config: SessionConfig
  #session: StreamingSession | undefined
  #vad: VadBackend | undefined
  #inbox: Promise<void> = Promise.resolve()
  #sending: Promise<void> = Promise.resolve()
  #idleTimer: NodeJS.Timeout | undefined
  #sessionTimer: NodeJS.Timeout | undefined
  #state: 'open' | 'finishing' | 'closed' = 'open'
  #paused = false
  #utteranceEndedAt: number | undefined
  #closed: Promise<void>
  #resolveClosed!: () => void

  constructor(
    ws: WebSocket,
    id: string,
    strategy: StrategyName,
    config: SessionConfig,
    ctx: ConnectionContext,
  ) {
    this.#ws = ws
    this.id = id
    this.strategy = strategy
    this.#config = config
    this.#ctx = ctx
    this.#log = ctx.logger.child ? ctx.logger.child({ session: id, strategy }) : ctx.logger
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
  }

  /** Resolves once the socket is closed and the session released. */
  get closed(): Promise<void> {
    return this.#closed
  }

  start(): void {
    const ws = this.#ws
    const o = this.#ctx.options
    ws.on('message', (data, isBinary) => {
      this.#touch()
      this.#inbox = this.#inbox.then(() => this.#handle(data, isBinary)).catch((err) => this.#fail(err))
    })
    ws.on('close', () => void this.#release())
    ws.on('error', (err) => this.#log.warn({ err }, 'socket error'))
    if (o.sessionTimeoutS > 0) {
      this.#sessionTimer = setTimeout(() => {
        this.#sendError(
          new WsError('session_timeout', `The session reached its ${o.sessionTimeoutS} s limit`),
        )
        void this.finish(CLOSE_CODES.normal, 'session timeout', 'timeout')
      }, o.sessionTimeoutS * 1000)
    }
    this.#touch()
    const ready: ServerMessage = {
      type: 'ready',
      session_id: this.id,
      strategy: this.strategy,
      backend: this.#ctx.engine.backendName,
      model: this.#ctx.engine.model,
      sample_rate: this.#config.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate,
      protocol_version: PROTOCOL_VERSION,
    }
    this.#send(ready)
    this.#log.info({ config: this.#config }, 'session opened')
  }

  /** Finalises what was received, sends the finals and `session_end`, then closes the socket. */
  async finish(
    code: number = CLOSE_CODES.normal,
    reason = '',
    why: SessionEndMessage['reason'] = 'end',
  ): Promise<void> {
    if (this.#state !== 'open') return this.#closed
    this.#state = 'finishing'
    this.#clearTimers()
    await this.#inbox
    if (this.#session && !this.#session.closed) {
      this.#resume()
      await this.#session.end()
    }
    await this.#sending
    this.#send({ type: 'session_end', reason: why, audio_end: this.#session?.receivedSeconds ?? 0 })
    this.#ws.close(code, reason)
    return this.#closed
  }

  /** Closes at once, dropping work in flight. */
  terminate(): void {
    this.#ws.terminate()
    void this.#release()
  }

  #touch(): void {
    const seconds = this.#ctx.options.idleTimeoutS
    if (seconds === 0 || this.#state !== 'open') return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      this.#sendError(
        new WsError('idle_timeout', `No message for ${seconds} s; send keepalive to stay connected`),
      )
      void this.finish(CLOSE_CODES.normal, 'idle timeout', 'timeout')
    }, seconds * 1000)
  }

  #clearTimers(): void {
    clearTimeout(this.#idleTimer)
    clearTimeout(this.#sessionTimer)
  }

  async #handle(data: RawData, isBinary: boolean): Promise<void> {
    if (this.#state !== 'open') return
    const bytes = toBytes(data)
    if (bytes.byteLength > this.#ctx.options.maxMessageBytes) {
      this.#sendError(
        new WsError(
          isBinary ? 'audio_too_large' : 'invalid_message',
          `Message of ${bytes.byteLength} bytes is over the ${this.#ctx.options.maxMessageBytes}-byte limit; send smaller frames`,
        ),
      )
      return
    }
    try {
      if (isBinary) {
        const session = await this.#ensureSession()
        const encoding = this.#config.encoding ?? DEFAULT_SESSION_CONFIG.encoding
        const samples = encoding === 'pcm_f32le' ? decodePcmF32le(bytes) : decodePcm16le(bytes)
        this.#push(session, samples)
        return
      }
      const message = parseClientMessage(Buffer.from(bytes).toString('utf8'))
      switch (message.type) {
        case 'config': {
          if (this.#session) {
            throw new WsError('invalid_message', 'config must come before the first audio or control message')
          }
          const { type: _type, ...config } = message
          this.#config = { ...this.#config, ...config }
          return
        }
        case 'audio_frame': {
          const rate = this.#config.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate
          if (message.sample_rate !== undefined && message.sample_rate !== rate) {
            throw new WsError(
              'unsupported_sample_rate',
              `audio_frame sample_rate ${message.sample_rate} differs from the session's ${rate} Hz; set sample_rate in config`,
            )
          }
          const session = await this.#ensureSession()
          this.#push(session, decodeAudioFrame(message))
          return
        }
        case 'vad_end':
          ;(await this.#ensureSession()).endUtterance()
          this.#utteranceEndedAt = performance.now()
          return
        case 'cancel':
          ;(await this.#ensureSession()).cancelUtterance()
          return
        case 'keepalive':
          return
        case 'end':
          this.#utteranceEndedAt = performance.now()
          void this.finish(CLOSE_CODES.normal, 'end', 'end')
          return
      }
    } catch (err) {
      const error = toWsError(err, 'invalid_message')
      this.#sendError(error)
    }
  }

  #push(session: StreamingSession, samples: Float32Array): void {
    session.pushAudio(samples)
    const rate = this.#config.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate
    this.#ctx.metrics.audioSeconds.inc(samples.length / rate)
    if (!this.#paused && session.pendingSeconds > this.#ctx.options.maxPendingS) {
      // Bounded memory without loss: stop reading; TCP pushes back on the client. Reading
      // resumes once the utterances waiting for their finals have shrunk to half the limit
      // (the open utterance grows only by reading).
      this.#paused = true
      this.#ws.pause()
      this.#ctx.metrics.readsPaused.inc()
      this.#log.warn({ pendingSeconds: session.pendingSeconds }, 'backend behind; reading paused')
      void session.backlogBelow(this.#ctx.options.maxPendingS / 2).then(() => this.#resume())
    }
  }

  #resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#ws.resume()
    this.#log.info('reading resumed')
  }

  async #ensureSession(): Promise<StreamingSession> {
    if (this.#session) return this.#session
    const o = this.#ctx.options
    const c = this.#config
    if ((c.vad ?? DEFAULT_SESSION_CONFIG.vad) === 'server') this.#vad = await this.#ctx.engine.createVad()
    const session = new StreamingSession({
      backend: this.#ctx.engine.backend,
      gate: this.#ctx.scheduler.gate(),
      strategy: this.strategy,
      // The server's defaults, then what the client asked for.
      partialIntervalMs: o.partialIntervalMs,
      ...streamingOptionsOf(c),
      maxUtteranceMs: o.maxUtteranceS * 1000,
      speculativeFinalMs: o.speculativeFinalMs,
      reviseMaxMs: c.revisions === false ? 0 : o.reviseMaxMs,
      ...(this.#vad ? { vad: this.#vad } : {}),
      ...(this.#ctx.engine.vadSegmenter ? { vadSegmenter: this.#ctx.engine.vadSegmenter } : {}),
      logger: this.#log,
    })
    this.#session = session
    this.#sending = this.#forward(session)
    return session
  }

  async #forward(session: StreamingSession): Promise<void> {
    const m = this.#ctx.metrics
    for await (const event of session) {
      if (this.#ws.bufferedAmount > this.#ctx.options.maxBufferedBytes * 8 && this.#state === 'open') {
        this.#sendError(new WsError('slow_consumer', 'The client is not reading its messages; closing'))
        this.#state = 'finishing'
        this.#ws.close(CLOSE_CODES.policyViolation, 'slow consumer')
        void session.close()
        return
      }
      if (event.type === 'speech_end') this.#utteranceEndedAt = performance.now()
      if (event.type === 'partial') {
        m.transcriptionSeconds.observe({ kind: 'partial' }, event.processingTimeMs / 1000)
        if (this.#ws.bufferedAmount > this.#ctx.options.maxBufferedBytes) {
          m.partialsSkipped.inc()
          continue
        }
      }
      if (event.type === 'revision')
        m.transcriptionSeconds.observe({ kind: 'revision' }, event.processingTimeMs / 1000)
      if (event.type === 'final') {
        m.transcriptionSeconds.observe({ kind: 'final' }, event.processingTimeMs / 1000)
        if (this.#utteranceEndedAt !== undefined) {
          m.finalLatencySeconds.observe((performance.now() - this.#utteranceEndedAt) / 1000)
          this.#utteranceEndedAt = undefined
        }
      }
      this.#send(sessionEventToMessage(event))
    }
  }

  #send(message: ServerMessage): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return
    if (message.type === 'error') this.#ctx.metrics.errors.inc({ code: message.code })
    this.#ws.send(JSON.stringify(message))
  }

  #sendError(error: WsError): void {
    this.#log.info({ code: error.code, message: error.message }, 'error sent to client')
    this.#send(errorMessage(error))
  }

  #fail(err: unknown): void {
    this.#log.error({ err }, 'connection failed')
    this.#sendError(toWsError(err))
  }

  async #release(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#clearTimers()
    await this.#session?.close()
    await this.#sending.catch(() => {})
    try {
      await this.#vad?.close?.()
    } catch (err) {
      this.#log.warn({ err }, 'closing the VAD failed')
    }
    this.#log.info({ receivedSeconds: this.#session?.receivedSeconds ?? 0 }, 'session closed')
    this.#resolveClosed()
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}
