import {
  CLOSE_CODES,
  DEFAULT_SESSION_CONFIG,
  type ErrorMessage,
  EventQueue,
  type FinalMessage,
  type PartialMessage,
  parseServerMessage,
  type ReadyMessage,
  type ServerMessage,
  type SpeechEndMessage,
  type SpeechStartMessage,
  WsError,
  withDefaults,
} from '@ws/core'
import { browserSocket } from './browser-socket.js'
import { type AudioInput, encodeAudio } from './encode-audio.js'
import {
  type ClientEvent,
  type ClientEventType,
  type ConnectOptions,
  DEFAULT_RECONNECT_OPTIONS,
  type EventOf,
  errorOf,
  type ReconnectOptions,
  refusalError,
  sessionUrl,
} from './options.js'
import { ReplayBuffer } from './replay-buffer.js'
import type { ClientSocket, SocketFactory } from './socket.js'

/**
 * A transcription session with the server. Send audio, read events:
 *
 * ```ts
 * const session = connect('ws://127.0.0.1:8765', { strategy: 'agreement' })
 * await session.ready
 * session.sendAudio(pcm16)            // Int16Array, Float32Array or Buffer, at sample_rate
 * void session.end()                   // finalise; the loop ends after the last final
 * for await (const event of session) if (event.type === 'final') console.log(event.text)
 * ```
 *
 * Times in events are seconds from the start of this session's audio, across reconnections.
 * A server `error` message arrives as an event; a refused or lost connection ends the loop
 * by throwing a {@link WsError} (`server_busy`, `unauthorized`, `connection_failed`, …).
 */
export class TranscriptionSession implements AsyncIterable<ClientEvent> {
  readonly url: string
  readonly options: ConnectOptions
  readonly ready: Promise<ReadyMessage>
  readonly #events: EventQueue<ClientEvent>
  readonly #listeners = new Map<string, Set<(event: ClientEvent) => void>>()
  #iterated = false
  readonly #reconnect: Required<ReconnectOptions> | undefined
  #ws: ClientSocket | undefined
  readonly #openSocket: SocketFactory
  #resolveReady!: (m: ReadyMessage) => void
  #rejectReady!: (e: Error) => void
  #state: 'connecting' | 'open' | 'reconnecting' | 'ending' | 'closed' = 'connecting'
  #readyMessage: ReadyMessage | undefined
  #lastError: ErrorMessage | undefined
  /** Seconds of audio handed to sendAudio (all of it, sent or not). */
  #audioSeconds = 0
  /** Where the current connection's timeline starts, in stream seconds. */
  #offset = 0
  #finalEnd = 0
  /** Stream seconds the last connection's server said it received and finalised (`session_end`). */
  #receivedEnd: number | undefined
  /** What was sent lately, to send again after a reconnection. */
  readonly #replay: ReplayBuffer | undefined
  /** `end()` came while reconnecting: end once the new connection has the replayed audio. */
  #endOnReady = false
  #ended: Promise<void>
  #resolveEnded!: () => void

  constructor(url: string, options: ConnectOptions = {}) {
    this.options = options
    this.url = sessionUrl(url, options)
    this.#openSocket = options.socket ?? browserSocket
    this.#reconnect =
      options.reconnect === true
        ? { ...DEFAULT_RECONNECT_OPTIONS }
        : options.reconnect
          ? withDefaults(DEFAULT_RECONNECT_OPTIONS, options.reconnect)
          : undefined
    if (this.#reconnect && this.#reconnect.replaySeconds > 0) {
      const f32 = (options.encoding ?? DEFAULT_SESSION_CONFIG.encoding) === 'pcm_f32le'
      this.#replay = new ReplayBuffer(this.#reconnect.replaySeconds, this.sampleRate, f32 ? 4 : 2)
    }
    this.#events = new EventQueue<ClientEvent>(() => void this.close())
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.ready.catch(() => {}) // surfaced through the event loop too
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve
    })
    const signal = options.signal
    if (signal) {
      if (signal.aborted) queueMicrotask(() => void this.close())
      else signal.addEventListener('abort', () => void this.close(), { once: true })
    }
    this.#open(0)
  }

  /** Seconds of audio given to `sendAudio` so far. */
  get audioSeconds(): number {
    return this.#audioSeconds
  }

  get sampleRate(): number {
    return this.options.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate
  }

  get closed(): boolean {
    return this.#state === 'closed'
  }

  /**
   * Sends audio at the session's `sample_rate`: Int16Array (PCM16), Float32Array ([-1, 1]),
   * or a Buffer already in the session's encoding. Audio sent while reconnecting is not
   * transcribed; it is reported in the `reconnected` event.
   */
  sendAudio(audio: AudioInput): void {
    if (this.#state === 'ending' || this.#state === 'closed' || this.#endOnReady) {
      throw new WsError('closed', 'The session has ended; it takes no more audio')
    }
    const { bytes, samples } = encodeAudio(audio, this.options.encoding ?? DEFAULT_SESSION_CONFIG.encoding)
    this.#replay?.push(this.#audioSeconds, bytes, samples / this.sampleRate)
    this.#audioSeconds += samples / this.sampleRate
    if (this.#state === 'open' && this.#ws?.isOpen) this.#ws.send(bytes)
  }

  /** Bytes queued on the socket (for pacing a fast source). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0
  }

  /** The current utterance is over: the server finalises it now (`vad_end`). */
  endUtterance(): void {
    this.#control({ type: 'vad_end' })
  }

  /** Drops the current utterance (`cancel`). */
  cancel(): void {
    this.#control({ type: 'cancel' })
  }

  /**
   * Finalises everything; resolves once the server has sent the last final and closed. While
   * reconnecting, it first waits for the new connection and its replayed audio (so `reconnected`
   * still reports what was lost), or for the reconnection to fail.
   */
  end(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'ending') return this.#ended
    if (this.#state === 'reconnecting') {
      this.#endOnReady = true
      return this.#ended
    }
    const ws = this.#ws
    if (this.#state !== 'open' || !ws?.isOpen) {
      void this.close()
      return this.#ended
    }
    this.#state = 'ending'
    ws.send(JSON.stringify({ type: 'end' }))
    return this.#ended
  }

  /** Closes at once. Idempotent. */
  close(): Promise<void> {
    if (this.#state !== 'closed') {
      this.#state = 'closed'
      this.#ws?.close(CLOSE_CODES.normal)
      this.#rejectReady(new WsError('closed', 'The session was closed before it was ready'))
      this.#events.end()
      this.#resolveEnded()
    }
    return this.#ended
  }

  /** Calls `fn` for each event of this type; returns a function that removes it. */
  on<T extends ClientEventType>(type: T, fn: (event: EventOf<T>) => void): () => void {
    let set = this.#listeners.get(type)
    if (!set) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    set.add(fn as (e: ClientEvent) => void)
    return () => set.delete(fn as (e: ClientEvent) => void)
  }

  /**
   * The events, for `for await`. Until a listener is added with {@link on}, events are also
   * kept for iteration; a session read only through `on()` keeps none once its first
   * listener is added, so start iterating before adding listeners to get both.
   */
  [Symbol.asyncIterator](): AsyncIterator<ClientEvent> {
    this.#iterated = true
    return this.#events
  }

  #control(message: object): void {
    if (this.#state === 'closed' || this.#state === 'ending' || this.#endOnReady) {
      throw new WsError('closed', 'The session has ended')
    }
    if (this.#state === 'open' && this.#ws?.isOpen) this.#ws.send(JSON.stringify(message))
  }

  #emit(event: ClientEvent): void {
    for (const fn of this.#listeners.get(event.type) ?? []) {
      try {
        fn(event)
      } catch (err) {
        // A listener's bug is the caller's to see, as with EventTarget: reported as an
        // uncaught exception, after the session's own work for this message is done.
        queueMicrotask(() => {
          throw err
        })
      }
    }
    // A caller who reads events only through on() gets no queue that nobody drains.
    if (this.#iterated || this.#listeners.size === 0) this.#events.push(event)
  }

  #open(attempt: number): void {
    let opened = false
    let refused = false
    let ws: ClientSocket | undefined
    const current = () => ws !== undefined && ws === this.#ws
    try {
      ws = this.#openSocket(
        this.url,
        {
          onOpen: () => {
            opened = true
          },
          onText: (text) => {
            if (!current()) return
            let message: ServerMessage
            try {
              message = parseServerMessage(text)
            } catch {
              return // a message this version does not know
            }
            this.#onMessage(message, attempt)
          },
          // Refused before the handshake: an HTTP status, the protocol's error message as the body.
          onRefused: (status, body) => {
            refused = true
            this.#lastError = refusalError(status, body)
          },
          onClose: (code, reason) => {
            if (current()) this.#onClose(code, reason, opened, attempt, refused)
          },
        },
        this.options.connectTimeoutMs ?? 10_000,
      )
    } catch (err) {
      this.#state = 'closed'
      const error =
        err instanceof WsError ? err : new WsError('connection_failed', String(err), { cause: err })
      this.#rejectReady(error)
      this.#events.fail(error)
      this.#resolveEnded()
      return
    }
    this.#ws = ws
  }

  #onMessage(message: ServerMessage, attempt: number): void {
    const o = this.#offset
    switch (message.type) {
      case 'ready': {
        const reconnected = this.#readyMessage !== undefined
        this.#readyMessage = message
        if (this.#state === 'connecting' || this.#state === 'reconnecting') this.#state = 'open'
        this.#resolveReady(message)
        // What the last server said it finalised, else what its finals covered.
        const lostFrom = this.#receivedEnd ?? this.#finalEnd
        this.#receivedEnd = undefined
        if (reconnected) {
          // The new connection's timeline starts where the audio sent to it again starts:
          // what no server finalised, as far as the replay buffer reaches; the rest is lost.
          const replay = this.#replay?.since(lostFrom) ?? { start: this.#audioSeconds, chunks: [] }
          this.#offset = replay.start
          for (const chunk of replay.chunks) this.#ws?.send(chunk)
          this.#emit({
            type: 'reconnected',
            session_id: message.session_id,
            attempt,
            lost: { start: lostFrom, end: replay.start },
            replayed: this.#audioSeconds - replay.start,
          })
          if (this.#endOnReady) {
            this.#endOnReady = false
            void this.end()
          }
          return
        }
        break
      }
      case 'partial':
        message = { ...message, audio_start: message.audio_start + o, audio_end: message.audio_end + o }
        break
      case 'final':
      case 'revision': {
        const segments = message.segments.map((s) => ({
          ...s,
          start: s.start + o,
          end: s.end + o,
          ...(s.words ? { words: s.words.map((w) => ({ ...w, start: w.start + o, end: w.end + o })) } : {}),
        }))
        message = {
          ...message,
          segments,
          audio_start: message.audio_start + o,
          audio_end: message.audio_end + o,
        }
        this.#finalEnd = Math.max(this.#finalEnd, message.audio_end)
        break
      }
      case 'speech_start':
      case 'speech_end':
        message = { ...message, t: message.t + o }
        break
      case 'session_end':
        message = { ...message, audio_end: message.audio_end + o }
        this.#receivedEnd = message.audio_end
        break
      case 'error':
        this.#lastError = message
        if (message.audio_start !== undefined) message = { ...message, audio_start: message.audio_start + o }
        if (message.audio_end !== undefined) message = { ...message, audio_end: message.audio_end + o }
        break
    }
    this.#emit(message)
  }

  #onClose(code: number, reason: string, opened: boolean, attempt: number, refusedByStatus: boolean): void {
    if (this.#state === 'closed') return
    const ending = this.#state === 'ending'
    if (ending || code === CLOSE_CODES.normal) {
      this.#finish()
      return
    }
    const refused = this.#lastError && (refusedByStatus || !this.#readyMessage) ? this.#lastError : undefined
    const refusal =
      refusedByStatus || code === CLOSE_CODES.policyViolation || code === CLOSE_CODES.tryAgainLater
    // A reconnection refused as busy (HTTP 503, close 1013: the server or replica it reached is
    // full, as while a drained replica's sessions move) is tried again like a lost one; other
    // refusals (a bad token, a bad path) are not, nor a busy refusal of the first connection.
    const busy =
      (refusedByStatus && this.#lastError?.retryable === true) || code === CLOSE_CODES.tryAgainLater
    const r = this.#reconnect
    const canRetry = r && this.#readyMessage && (!refusal || busy) && attempt < r.maxAttempts
    if (canRetry) {
      const next = attempt + 1
      const base = Math.min(r.maxDelayMs, r.initialDelayMs * 2 ** attempt)
      const delay = Math.round(base * (0.5 + Math.random()))
      this.#state = 'reconnecting'
      this.#emit({ type: 'reconnecting', attempt: next, delay_ms: delay, code })
      setTimeout(() => {
        if (this.#state !== 'reconnecting') return
        this.#open(next)
      }, delay)
      return
    }
    // A refusal (server_busy, unauthorized, …) or a lost connection without reconnection.
    const last = this.#lastError
    const error = refused
      ? errorOf(refused)
      : last && refusal
        ? errorOf(last)
        : new WsError(
            'connection_failed',
            opened || this.#readyMessage
              ? `The connection was lost (close ${code}${reason ? ` ${reason}` : ''})`
              : `Could not connect to ${this.url.replace(/token=[^&]+/, 'token=…')} (close ${code})`,
            { retryable: true, details: { code } },
          )
    this.#state = 'closed'
    this.#rejectReady(error)
    this.#events.fail(error)
    this.#resolveEnded()
  }

  #finish(): void {
    this.#state = 'closed'
    this.#rejectReady(new WsError('closed', 'The session ended before it was ready'))
    this.#events.end()
    this.#resolveEnded()
  }
}

export type { ErrorMessage, FinalMessage, PartialMessage, ReadyMessage, SpeechEndMessage, SpeechStartMessage }
