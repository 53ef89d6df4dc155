import type { SessionEvent, TranscriptEventFields } from '../session/events.js'
import type { ServerMessage, TranscriptFields } from './messages.js'
import { errorMessage } from './validate.js'

/** The protocol message for a session event. */
export function sessionEventToMessage(event: SessionEvent): ServerMessage {
  switch (event.type) {
    case 'partial':
      return {
        type: 'partial',
        utterance_id: event.utteranceId,
        text: event.text,
        stable: event.stable,
        unstable: event.unstable,
        audio_start: event.audioStart,
        audio_end: event.audioEnd,
        processing_time_ms: event.processingTimeMs,
        lag_s: Math.round(event.lagSeconds * 1000) / 1000,
      }
    case 'final':
      return {
        type: 'final',
        utterance_id: event.utteranceId,
        ...transcriptFields(event),
        reason: event.reason,
        ...(event.lowConfidence ? { low_confidence: true } : {}),
      }
    case 'revision':
      return { type: 'revision', utterance_ids: event.utteranceIds, ...transcriptFields(event) }
    case 'speech_start':
    case 'speech_end':
      return { type: event.type, t: event.t }
    case 'error':
      return errorMessage(event.error, {
        ...(event.utteranceId !== undefined ? { utterance_id: event.utteranceId } : {}),
        ...(event.audioStart !== undefined ? { audio_start: event.audioStart } : {}),
        ...(event.audioEnd !== undefined ? { audio_end: event.audioEnd } : {}),
      })
  }
}

function transcriptFields(e: TranscriptEventFields): TranscriptFields {
  return {
    text: e.text,
    segments: e.segments,
    language: e.language,
    audio_start: e.audioStart,
    audio_end: e.audioEnd,
    processing_time_ms: e.processingTimeMs,
  }
}
