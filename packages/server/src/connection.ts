import {
  CLOSE_CODES,
  DEFAULT_SESSION_CONFIG,
  type InferenceScheduler,
  type Logger,
  type SessionEndMessage,
  type StrategyName,
  StreamingSession,
  streamingOptionsOf,
  toWsError,
  type VadBackend,
  WsError,
  withDefaults,
} from '@ws/core'
import type { LiveDiarizer } from '@ws/diarize'
import type { RawData } from 'ws'
import type { Engine } from './engine.js'
import { invalidMessageVerdict } from './invalid-messages.js'
import type { ServerMetrics } from './metrics.js'
import type { ResolvedServerOptions } from './options.js'
import { Outbox } from './outbox.js'
import { Presence } from './presence.js'
import type { Command, WireProtocol } from './protocols/protocol.js'
import type { SessionSlots } from './slots.js'
import { type ClientSocket, closeReason, toBytes } from './socket-data.js'
import { labelSpeakers, sessionDiarizer } from './speakers.js'

export interface ConnectionContext {
  engine: Engine
  scheduler: InferenceScheduler
  metrics: ServerMetrics
  options: ResolvedServerOptions
  logger: Logger
  slots: SessionSlots
}

type Timer = NodeJS.Timeout | undefined

/**
 * One WebSocket client and its streaming session, in any wire protocol (a {@link WireProtocol}
 * turns messages into commands and session events into messages; everything else is done
 * here, the same for all). Messages are handled one at a time, in order; transcript events
 * are sent as they come, partials skipped while the client reads slowly (finals never). The
 * session is made at the first audio or control message, so settings may come first. Audio takes one of the server's session slots (see
 * {@link SessionSlots}); a connection quiet for `noAudioTimeoutS` finalises what it said and
 * gives its slot back.
 * Everything sent passes one slow-consumer guard (an {@link Outbox}).
 */
export class Connection {
  readonly id: string
  readonly protocol: WireProtocol
  readonly #ws: ClientSocket
  readonly #ctx: ConnectionContext
  readonly #log: Logger
  #session: StreamingSession | undefined
  #vad: VadBackend | undefined
  #speakers: LiveDiarizer | undefined // `diarize`: speakers of the finals
  readonly #out: Outbox
  #inbox: Promise<void> = Promise.resolve()
  #sending: Promise<void> = Promise.resolve()
  readonly #presence: Presence
  #sessionTimer: Timer
  #state: 'open' | 'finishing' | 'closed' = 'open'
  #paused = false
  #invalid = 0
  #closingNow = false
  #utteranceEndedAt: number | undefined
  /** When the socket closed and the session's release began (`performance.now()`), until it ends. */
  closingSince: number | undefined
  #closed: Promise<void>
  #resolveClosed!: () => void

  constructor(ws: ClientSocket, id: string, protocol: WireProtocol, ctx: ConnectionContext) {
    this.#ws = ws
    this.id = id
    this.protocol = protocol
    this.#ctx = ctx
    const fields = { session: id, protocol: protocol.name, strategy: this.strategy }
    this.#log = ctx.logger.child ? ctx.logger.child(fields) : ctx.logger
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    this.#out = new Outbox({
      ws,
      metrics: ctx.metrics,
      maxBufferedBytes: ctx.options.maxBufferedBytes,
      logger: this.#log,
      onSlowConsumer: () => this.#closeNow(CLOSE_CODES.policyViolation, 'slow consumer'),
      errorOf: (error, extra) => protocol.error(error, extra),
    })
    this.#presence = new Presence({
      options: ctx.options,
      slots: ctx.slots,
      metrics: ctx.metrics,
      logger: this.#log,
      onIdle: (seconds, holding) => {
        const what = holding ? 'message' : 'audio or keepalive'
        this.#sendError(
          new WsError('idle_timeout', `No ${what} for ${seconds} s; send keepalive to stay connected`),
        )
        void this.finish(protocol.closeCodes.idle, 'idle timeout', 'timeout')
      },
      // What was said is finalised now: nobody waits for more audio of it.
      onQuiet: () => {
        if (this.#session && !this.#session.closed && this.#state === 'open')
          void this.#session.endUtterance()
      },
    })
  }

  /** The session's strategy. */
  get strategy(): StrategyName {
    return this.protocol.session().strategy
  }

  /** Resolves once the socket is closed and the session released. */
  get closed(): Promise<void> {
    return this.#closed
  }

  /** Whether the connection holds a session slot (it sent audio and has not gone quiet). */
  get transcribing(): boolean {
    return this.#presence.holding
  }

  start(): void {
    const ws = this.#ws
    const o = this.#ctx.options
    ws.on('message', (data, isBinary) => {
      if (this.#state === 'closed') return
      this.#presence.touch()
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
    this.#presence.touch()
    const info = { sessionId: this.id, backend: this.#ctx.engine.backendName, model: this.#ctx.engine.model }
    for (const message of this.protocol.open(info)) this.#out.send(message)
    this.#log.info({ config: this.protocol.session().config }, 'session opened')
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
    const audioEndS = this.#session?.receivedSeconds ?? 0
    for (const message of this.protocol.end({ reason: why, audioEndS })) this.#out.send(message)
    this.#ws.close(code, reason)
    return this.#closed
  }

  /** Closes at once, dropping work in flight. */
  terminate(): void {
    this.#ws.terminate()
    void this.#release()
  }

  /** Audio came: false (and the client is closed with 1013) when no session slot fits it. */
  #takeSlot(): boolean {
    const refusal = this.#presence.audio()
    if (!refusal) return true
    this.#sendError(refusal.error, { retry_after_ms: refusal.retryAfterMs })
    void this.finish(CLOSE_CODES.tryAgainLater, 'server busy', 'busy')
    return false
  }

  #clearTimers(): void {
    clearTimeout(this.#sessionTimer)
    this.#presence.stop()
  }

  async #handle(data: RawData, isBinary: boolean): Promise<void> {
    if (this.#state !== 'open') return
    const bytes = toBytes(data)
    try {
      if (bytes.byteLength > this.#ctx.options.maxMessageBytes) {
        throw new WsError(
          isBinary ? 'audio_too_large' : 'invalid_message',
          `Message of ${bytes.byteLength} bytes is over the ${this.#ctx.options.maxMessageBytes}-byte limit; send smaller frames`,
        )
      }
      for (const command of this.protocol.receive(bytes, isBinary)) {
        if (this.#state !== 'open') return
        await this.#run(command)
      }
    } catch (err) {
      if (this.#state === 'open') this.#invalidInput(toWsError(err, 'invalid_message'))
    }
  }

  async #run(command: Command): Promise<void> {
    switch (command.type) {
      case 'audio':
        if (!this.#takeSlot()) return
        this.#push(await this.#ensureSession(), command.samples)
        return
      case 'config':
        if (this.#session) {
          throw new WsError('invalid_message', 'config must come before the first audio or control message')
        }
        return
      case 'end_utterance': {
        const ended = (await this.#ensureSession()).endUtterance()
        this.#utteranceEndedAt = performance.now()
        const reply = command.nothingOpen
        if (reply)
          void ended.then((closed) => {
            if (!closed && this.#state === 'open') for (const message of reply()) this.#out.send(message)
          })
        return
      }
      case 'cancel':
        ;(await this.#ensureSession()).cancelUtterance()
        return
      case 'keepalive':
        return
      case 'end':
        this.#utteranceEndedAt = performance.now()
        void this.finish(CLOSE_CODES.normal, 'end', 'end')
        return
      case 'reply':
        for (const message of command.messages) this.#out.send(message)
        return
    }
  }

  /** A message not taken: its typed error, and at the limit the close ({@link invalidMessageVerdict}). */
  #invalidInput(error: WsError): void {
    const max = Math.min(this.#ctx.options.maxInvalidMessages, this.protocol.maxInvalidMessages ?? Infinity)
    const verdict = invalidMessageVerdict(++this.#invalid, max, error)
    if (verdict.send) this.#sendError(verdict.send)
    if (verdict.close) this.#closeNow(this.protocol.closeCodes.invalid, verdict.close)
  }

  /** Closes without finalising (the client broke the protocol or stopped reading). */
  #closeNow(code: number, reason: string): void {
    if (this.#state === 'closed' || this.#closingNow) return
    this.#closingNow = true
    this.#state = 'finishing'
    this.#clearTimers()
    this.#ws.close(code, closeReason(reason))
    void this.#session?.close()
  }

  #push(session: StreamingSession, samples: Float32Array): void {
    session.pushAudio(samples)
    const rate = this.protocol.session().config.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate
    this.#ctx.metrics.audioSeconds.inc(samples.length / rate)
    if (!this.#paused && session.pendingSeconds > this.#ctx.options.maxPendingS) {
      // Bounded memory without loss: stop reading; TCP pushes back on the client. Reading
      // resumes once the utterances waiting for their finals have shrunk to half the limit
      // (the open utterance grows only by reading).
      this.#paused = true
      this.#ws.pause()
      this.#presence.paused()
      this.#ctx.metrics.readsPaused.inc()
      this.#log.warn({ pendingSeconds: session.pendingSeconds }, 'backend behind; reading paused')
      void session.backlogBelow(this.#ctx.options.maxPendingS / 2).then(() => this.#resume())
    }
  }

  #resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#ws.resume()
    this.#presence.resumed()
    this.#log.info('reading resumed')
  }

  async #ensureSession(): Promise<StreamingSession> {
    if (this.#session) return this.#session
    const o = this.#ctx.options
    const setup = this.protocol.session()
    const c = setup.config
    if (c.diarize && !this.#speakers) {
      const gone = () => this.#state === 'closed'
      this.#speakers = await sessionDiarizer(this.#ctx, gone).catch((err) => {
        this.#sendError(toWsError(err, 'model_load_failed'))
        void this.finish(CLOSE_CODES.internalError, 'diarization is not available')
        throw err
      })
    }
    if ((c.vad ?? DEFAULT_SESSION_CONFIG.vad) === 'server') {
      this.#vad = await this.#ctx.engine.createVad(
        setup.vadThreshold === undefined ? {} : { threshold: setup.vadThreshold },
      )
    }
    const vadSegmenter = withDefaults(this.#ctx.engine.vadSegmenter ?? {}, setup.vadSegmenter)
    const session = new StreamingSession({
      backend: this.#ctx.engine.backend,
      gate: this.#ctx.scheduler.gate(),
      strategy: setup.strategy,
      // The server's defaults, then what the client asked for.
      partialIntervalMs: o.partialIntervalMs,
      ...streamingOptionsOf(c),
      ...(c.diarize ? { wordTimestamps: true } : {}), // speakers change at word boundaries
      maxUtteranceMs: o.maxUtteranceS * 1000,
      speculativeFinalMs: o.speculativeFinalMs,
      reviseMaxMs: c.revisions === false ? 0 : o.reviseMaxMs,
      reviseBeamSize: o.reviseBeamSize,
      ...(this.#vad ? { vad: this.#vad } : {}),
      ...(Object.keys(vadSegmenter).length > 0 ? { vadSegmenter } : {}),
      logger: this.#log,
      ...(this.#speakers ? { onAudio: (a: Float32Array) => this.#speakers?.push(a) } : {}),
    })
    this.#session = session
    this.#sending = this.#forward(session)
    return session
  }

  async #forward(session: StreamingSession): Promise<void> {
    const m = this.#ctx.metrics
    for await (const next of session) {
      const event = this.#speakers ? await labelSpeakers(this.#speakers, next, this.#log) : next
      if (event.type === 'speech_end') this.#utteranceEndedAt = performance.now()
      if (event.type === 'partial')
        m.transcriptionSeconds.observe({ kind: 'partial' }, event.processingTimeMs / 1000)
      if (event.type === 'revision')
        m.transcriptionSeconds.observe({ kind: 'revision' }, event.processingTimeMs / 1000)
      if (event.type === 'final') {
        m.transcriptionSeconds.observe({ kind: 'final' }, event.processingTimeMs / 1000)
        if (this.#utteranceEndedAt !== undefined) {
          m.finalLatencySeconds.observe((performance.now() - this.#utteranceEndedAt) / 1000)
          this.#utteranceEndedAt = undefined
        }
      }
      for (const message of this.protocol.event(event)) this.#out.send(message)
    }
  }

  #sendError(error: WsError, extra: { retry_after_ms?: number } = {}): void {
    this.#out.sendError(error, extra)
  }

  #fail(err: unknown): void {
    this.#log.error({ err }, 'connection failed')
    this.#sendError(toWsError(err))
  }

  /**
   * The socket closed (or was terminated): the session stops — queued finals and revisions
   * dropped, inference in flight aborted — and its slot is given back. Waiting for the session
   * is bounded by `closeTimeoutMs`: a backend call that cannot be stopped (faster-whisper's
   * worker) keeps its scheduler turn until it returns, but never the slot.
   */
  async #release(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.closingSince = performance.now()
    this.#clearTimers()
    this.#speakers?.close() // first: a final waiting for its speakers is let go
    const settled = Promise.all([this.#session?.close(), this.#sending.catch(() => {})]).then(() => true)
    let timer: Timer
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#ctx.options.closeTimeoutMs)
    })
    const inTime = await Promise.race([settled, timedOut])
    clearTimeout(timer)
    if (!inTime) {
      this.#log.warn(
        { closeTimeoutMs: this.#ctx.options.closeTimeoutMs },
        'the session did not stop in time; its slot is released (its backend call ends on its own)',
      )
    }
    this.#presence.release()
    try {
      await this.#vad?.close?.()
    } catch (err) {
      this.#log.warn({ err }, 'closing the VAD failed')
    }
    this.#log.info({ receivedSeconds: this.#session?.receivedSeconds ?? 0 }, 'session closed')
    this.closingSince = undefined
    this.#resolveClosed()
  }
}
