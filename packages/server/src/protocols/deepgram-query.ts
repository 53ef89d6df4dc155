import { checkSessionOption, DEFAULT_VAD_SEGMENTER_OPTIONS, WsError } from '@ws/core'
import { INPUT_ENCODINGS, type InputEncoding } from './audio-input.js'

/** What a Deepgram live client asked for in its query, as this server serves it. */
export interface DeepgramOptions {
  encoding: InputEncoding
  /** Raw audio without `encoding`: linear16, or a WAV file streamed as it is (its header read). */
  sniffWav: boolean
  sampleRate: number
  interimResults: boolean
  /** `diarize=true`: each word carries `speaker` (0, 1, … in order of first appearance). */
  diarize: boolean
  /** Silence that ends an utterance, in ms; `false`: utterances never end at a pause by themselves. */
  endpointingMs: number | false
  utteranceEndMs: number | undefined
  vadEvents: boolean
  /** A language code, or undefined to detect it (`multi`, or none asked). */
  language: string | undefined
  /** The model name asked (reported back; the server's model answers). */
  model: string | undefined
}

/**
 * The least silence that ends an utterance when the served VAD's own is not given: Deepgram's
 * default `endpointing` is 10 ms, but Whisper hears whole phrases, not words cut at every gap
 * between them, so shorter values (LiveKit sends 25) are raised to the VAD's hangover (the
 * server passes its VAD's: 200 ms for WebRTC, 150 ms for Silero).
 */
export const MIN_ENDPOINTING_MS = DEFAULT_VAD_SEGMENTER_OPTIONS.hangoverMs
export const MAX_ENDPOINTING_MS = 10_000

function bool(value: string | null, name: string): boolean | undefined {
  if (value === null) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw new WsError('invalid_config', `${name} must be true or false, got "${value}"`)
}

function integer(value: string | null, name: string, min: number, max: number): number | undefined {
  if (value === null) return undefined
  const n = Number(value)
  if (!(Number.isInteger(n) && n >= min && n <= max)) {
    throw new WsError('invalid_config', `${name} must be an integer from ${min} to ${max}, got "${value}"`)
  }
  return n
}

/**
 * Reads a `/v1/listen` query. Parameters this server has no use for (`punctuate`,
 * `smart_format`, `keyterm`, `tag`, …) are ignored, as Deepgram ignores unknown ones;
 * a value it cannot serve is a `WsError` for a 400 before the handshake.
 */
export function parseDeepgramQuery(
  query: URLSearchParams,
  minEndpointingMs: number = MIN_ENDPOINTING_MS,
): DeepgramOptions {
  const asked = query.get('encoding')
  if (asked !== null && !(INPUT_ENCODINGS as readonly string[]).includes(asked)) {
    throw new WsError(
      'unsupported_encoding',
      `encoding "${asked}" is not supported; use ${INPUT_ENCODINGS.join(', ')} (or none for a WAV stream)`,
    )
  }
  const encoding = (asked ?? 'linear16') as InputEncoding
  const channels = integer(query.get('channels'), 'channels', 1, 32)
  if (channels !== undefined && channels !== 1) {
    throw new WsError('invalid_config', `channels=${channels}: only mono audio (channels=1) is transcribed`)
  }
  const rate = query.get('sample_rate')
  const sampleRate = rate === null ? (encoding === 'linear16' ? 16_000 : 8000) : Number(rate)
  checkSessionOption('sample_rate', sampleRate)
  const endpointing = query.get('endpointing')
  let endpointingMs: number | false
  if (endpointing === 'false') endpointingMs = false
  else if (endpointing === null || endpointing === 'true') endpointingMs = minEndpointingMs
  else {
    const ms = integer(endpointing, 'endpointing', 0, MAX_ENDPOINTING_MS)!
    endpointingMs = Math.max(ms, minEndpointingMs)
  }
  const language = query.get('language') ?? undefined
  let code: string | undefined
  if (language && language !== 'multi') {
    code = language.split('-')[0]!.toLowerCase()
    checkSessionOption('language', code)
  }
  return {
    encoding,
    sniffWav: asked === null,
    sampleRate,
    interimResults: bool(query.get('interim_results'), 'interim_results') ?? false,
    diarize: bool(query.get('diarize'), 'diarize') ?? false,
    endpointingMs,
    utteranceEndMs: integer(query.get('utterance_end_ms'), 'utterance_end_ms', 0, 60_000),
    vadEvents: bool(query.get('vad_events'), 'vad_events') ?? false,
    language: code,
    model: query.get('model') ?? undefined,
  }
}
