import type { ErrorCode } from '../errors.js'
import type { StrategyName } from '../strategies/strategy.js'
import type { Segment } from '../types.js'
import type { SessionConfig } from './session-options.js'

/**
 * Wire protocol v1 (JSON text frames with snake_case fields, plus binary audio frames).
 * Endpoint: `ws://HOST:PORT/ws/transcribe/{prompt|context|hybrid|agreement}`.
 */
export const PROTOCOL_VERSION = 1

export * from './session-options.js'

// ---- client → server --------------------------------------------------------------------

/** Audio as base64 of float32 little-endian samples (the seeds' form; binary frames are faster). */
export interface AudioFrameMessage {
  type: 'audio_frame'
  audio: string
  sample_rate?: number
}
export interface ConfigMessage extends SessionConfig {
  type: 'config'
}
export interface VadEndMessage {
  type: 'vad_end'
}
export interface CancelMessage {
  type: 'cancel'
}
export interface KeepaliveMessage {
  type: 'keepalive'
}
export interface EndMessage {
  type: 'end'
}
export type ClientMessage =
  | AudioFrameMessage
  | ConfigMessage
  | VadEndMessage
  | CancelMessage
  | KeepaliveMessage
  | EndMessage

// ---- server → client --------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready'
  session_id: string
  strategy: StrategyName
  backend: string
  model: string
  sample_rate: number
  protocol_version?: number
}
export interface PartialMessage {
  type: 'partial'
  utterance_id: number
  text: string
  stable: string
  unstable: string
  audio_start: number
  audio_end: number
  processing_time_ms: number
  /** Seconds of audio the server has received but not yet transcribed. */
  lag_s?: number
}
/** What a final and a revision both carry: a transcript of stream audio. */
export interface TranscriptFields {
  text: string
  segments: Segment[]
  language: string
  audio_start: number
  audio_end: number
  processing_time_ms: number
}
export interface FinalMessage extends TranscriptFields {
  type: 'final'
  utterance_id: number
  reason?: 'vad_end' | 'speech_end' | 'max_length' | 'end'
  /** Present (true) when the text looks like a decoding failure: a loop, or more words than the audio holds. */
  low_confidence?: boolean
}
/** Finished utterances decoded again together: `text` replaces the finals of `utterance_ids`. */
export interface RevisionMessage extends TranscriptFields {
  type: 'revision'
  utterance_ids: number[]
}
export interface SpeechStartMessage {
  type: 'speech_start'
  t: number
}
export interface SpeechEndMessage {
  type: 'speech_end'
  t: number
}
export interface ErrorMessage {
  type: 'error'
  code: ErrorCode
  message: string
  retryable?: boolean
  /** With a refusal: when asking again may succeed. */
  retry_after_ms?: number
  utterance_id?: number
  audio_start?: number
  audio_end?: number
}
/**
 * The server ends the connection: every second of audio it received (`audio_end`, from the
 * start of this connection's audio) has been finalised and sent. A client that reconnects
 * knows exactly which audio it must send again or report lost. Sent before the server
 * closes the socket itself (after `end`, a shutdown, a timeout); not after a refusal.
 */
export interface SessionEndMessage {
  type: 'session_end'
  /** `busy`: the client sent audio again after going quiet and no session slot was free. */
  reason: 'end' | 'shutdown' | 'timeout' | 'busy'
  audio_end: number
}
export type ServerMessage =
  | ReadyMessage
  | PartialMessage
  | FinalMessage
  | RevisionMessage
  | SpeechStartMessage
  | SpeechEndMessage
  | ErrorMessage
  | SessionEndMessage

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const
