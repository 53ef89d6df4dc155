import { type Encoding, type ErrorCode, WsError } from '@ws/core'

/**
 * The `/voice/stream` protocol. JSON text messages, and binary audio frames between
 * `audio_start` and `audio_end`.
 *
 * Client → server: `audio_start` (`format`: encoding and sample rate of the frames that
 * follow), binary frames, `audio_end` (the user stopped speaking: the transcript is final and
 * answered), `text` (typed input instead of speech), `cancel` (stop the answer).
 *
 * Server → client: `ready`, `partial_transcript`, `final_transcript`, `response_chunk` (a
 * piece of the answer as the model writes it), `audio_chunk` (one sentence of it spoken),
 * `response_complete`, `response_cancelled`, `error`.
 */
export type AudioEncoding = Encoding

export interface AudioFormat {
  /** Default `pcm_s16le`. */
  encoding?: AudioEncoding
  /** Default 16 000. */
  sample_rate?: number
}

export type VoiceClientMessage =
  | { type: 'audio_start'; format?: AudioFormat }
  | { type: 'audio_end' }
  | { type: 'text'; content: string }
  | { type: 'cancel' }

export type VoiceServerMessage =
  | { type: 'ready'; session_id: string; resumed: boolean }
  | { type: 'partial_transcript'; text: string; is_final: false }
  | { type: 'final_transcript'; text: string; is_final: true }
  | { type: 'response_chunk'; response_id: number; text: string; accumulated: string }
  | { type: 'audio_chunk'; response_id: number; index: number; text: string; url: string }
  | { type: 'response_complete'; response_id: number; text: string; audio_url: string | null }
  | { type: 'response_cancelled'; response_id: number }
  | { type: 'error'; code: ErrorCode; message: string; response_id?: number }

/** Longest typed input, in characters. */
export const MAX_TEXT_CHARS = 4000

function invalid(message: string): never {
  throw new WsError('invalid_message', message)
}

/** Parses and checks one text message from a client; throws `invalid_message` (or `unsupported_*`) saying why. */
export function parseVoiceMessage(raw: string): VoiceClientMessage {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    invalid('Messages are JSON objects')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) invalid('Messages are JSON objects')
  const m = value as Record<string, unknown>
  switch (m.type) {
    case 'audio_start': {
      const format = m.format
      if (format === undefined) return { type: 'audio_start' }
      if (!format || typeof format !== 'object') invalid('audio_start.format must be an object')
      const f = format as Record<string, unknown>
      const out: AudioFormat = {}
      if (f.encoding !== undefined) {
        if (f.encoding !== 'pcm_s16le' && f.encoding !== 'pcm_f32le')
          throw new WsError(
            'unsupported_encoding',
            `Unsupported encoding ${JSON.stringify(f.encoding)}; use pcm_s16le or pcm_f32le`,
          )
        out.encoding = f.encoding
      }
      if (f.sample_rate !== undefined) {
        const rate = f.sample_rate
        if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 48_000)
          throw new WsError(
            'unsupported_sample_rate',
            `sample_rate must be an integer from 8000 to 48000, got ${JSON.stringify(rate)}`,
          )
        out.sample_rate = rate
      }
      return { type: 'audio_start', format: out }
    }
    case 'audio_end':
    case 'cancel':
      return { type: m.type }
    case 'text': {
      if (typeof m.content !== 'string' || m.content.trim() === '')
        invalid('text.content must be a non-empty string')
      if (m.content.length > MAX_TEXT_CHARS)
        invalid(`text.content is longer than ${MAX_TEXT_CHARS} characters`)
      return { type: 'text', content: m.content }
    }
    default:
      return invalid(
        `Unknown message type ${JSON.stringify(m.type)}; use audio_start, audio_end, text or cancel`,
      )
  }
}
