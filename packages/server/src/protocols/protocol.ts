import type {
  SessionConfig,
  SessionEndMessage,
  SessionEvent,
  StrategyName,
  VadSegmenterOptions,
  WsError,
} from '@ws/core'

/**
 * A wire protocol spoken over one WebSocket: this server's own (`/ws/transcribe/*`), OpenAI
 * Realtime transcription (`/v1/realtime`) or Deepgram live (`/v1/listen`). Each is an adapter
 * over the one streaming session that {@link Connection} runs: it turns client messages into
 * {@link Command}s and session events into its messages. It never transcribes, times out,
 * counts slots or closes sockets itself; the connection does all of that the same way for
 * every protocol.
 */
export interface WireProtocol {
  readonly name: ProtocolName
  /** What the session is made with, read when the first audio or control command comes. */
  session(): SessionSetup
  /** Messages sent as soon as the socket is open. */
  open(info: OpenInfo): Outgoing[]
  /** One client message. Throws a `WsError` for input it cannot take (see `invalid`). */
  receive(data: Uint8Array, isBinary: boolean): Command[]
  /** A session event as this protocol's messages (none, one or several). */
  event(event: SessionEvent): Outgoing[]
  /** An error as a message, or `undefined` when the protocol has none (the close code says it). */
  error(error: WsError, extra?: { retry_after_ms?: number }): Outgoing | undefined
  /** Messages at a clean end, after the last transcript (the native `session_end`, Deepgram's `Metadata`). */
  end(info: { reason: SessionEndMessage['reason']; audioEndS: number }): Outgoing[]
  /** Close codes where the protocols differ. */
  readonly closeCodes: CloseCodes
  /**
   * Invalid client messages before the connection is closed with `closeCodes.invalid`
   * (`Infinity` for the server's `maxInvalidMessages`; 1: the first one closes, as Deepgram does).
   */
  readonly maxInvalidMessages?: number
}

export type ProtocolName = 'native' | 'openai-realtime' | 'deepgram' | 'wyoming'

export interface SessionSetup {
  strategy: StrategyName
  config: SessionConfig
  /** The server VAD's segmenter settings the client asked for (OpenAI `turn_detection`, Deepgram `endpointing`). */
  vadSegmenter?: VadSegmenterOptions
  /** The speech threshold the client asked for (0–1; OpenAI `turn_detection.threshold`). */
  vadThreshold?: number
}

export interface OpenInfo {
  sessionId: string
  backend: string
  model: string
}

/** A message to send, and how the slow-consumer guard may treat it. */
export interface Outgoing {
  message: object
  /** May be skipped while the client reads slowly (a partial the next one replaces). */
  droppable?: boolean
  /** An error message: counted by code in the metrics. */
  errorCode?: string
}

/** What a client message asks the connection to do. */
export type Command =
  | { type: 'audio'; samples: Float32Array }
  /** Session settings changed ({@link WireProtocol.session}): only before the session starts. */
  | { type: 'config' }
  /**
   * The utterance is over: finalise it now, after the audio before it. `nothingOpen`: the
   * messages to send when the session had no utterance open then (no final will come).
   */
  | { type: 'end_utterance'; nothingOpen?: () => Outgoing[] }
  /** Drop the open utterance. */
  | { type: 'cancel' }
  | { type: 'keepalive' }
  /** Finalise everything, send the protocol's end messages, close normally. */
  | { type: 'end' }
  /** Messages answered straight away (acknowledgements, protocol errors that keep the session). */
  | { type: 'reply'; messages: Outgoing[] }

export interface CloseCodes {
  /** Too many invalid messages, or undecodable audio. */
  invalid: number
  /** No audio or keepalive for too long. */
  idle: number
}

/** The protocol's message of an error, as an {@link Outgoing}. */
export function errorOutgoing(message: object, error: WsError): Outgoing {
  return { message, errorCode: error.code }
}
