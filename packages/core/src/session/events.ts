import type { WsError } from '../errors.js'
import type { Segment } from '../types.js'
import type { FinalReason } from './utterance-tracker.js'

export type { FinalReason }

/** A transcript of the current utterance so far. Times are seconds from the start of the stream. */
export interface PartialEvent {
  type: 'partial'
  utteranceId: number
  text: string
  /** Committed text that will not change (LocalAgreement); empty for the other strategies. */
  stable: string
  /** Text that may still change. */
  unstable: string
  audioStart: number
  audioEnd: number
  processingTimeMs: number
  /** Seconds of audio received but not covered by this partial when it was emitted. */
  lagSeconds: number
}

/** What a final and a revision both carry. Segment and word times are seconds from the start of the stream. */
export interface TranscriptEventFields {
  text: string
  segments: Segment[]
  language: string
  audioStart: number
  audioEnd: number
  processingTimeMs: number
}

/** The transcript of a finished utterance. */
export interface FinalEvent extends TranscriptEventFields {
  type: 'final'
  utteranceId: number
  reason: FinalReason
  /**
   * The text looks like a decoding failure (`degenerateText`: a loop, or more words
   * than the audio holds) even after the backend's own retry. Set only then.
   */
  lowConfidence?: true
}

/**
 * Several finished utterances decoded again together, with more context than each had alone:
 * `text` replaces the finals of `utteranceIds` (see `reviseMaxMs`). Times are stream seconds.
 */
export interface RevisionEvent extends TranscriptEventFields {
  type: 'revision'
  utteranceIds: number[]
}

export interface SpeechStartEvent {
  type: 'speech_start'
  /** Seconds from the start of the stream, padding included. */
  t: number
}

export interface SpeechEndEvent {
  type: 'speech_end'
  t: number
}

/** A failure the session survived; a failed final names the audio it could not transcribe. */
export interface SessionErrorEvent {
  type: 'error'
  error: WsError
  utteranceId?: number
  audioStart?: number
  audioEnd?: number
}

export type SessionEvent =
  | PartialEvent
  | FinalEvent
  | RevisionEvent
  | SpeechStartEvent
  | SpeechEndEvent
  | SessionErrorEvent
