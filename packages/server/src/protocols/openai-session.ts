import { checkSessionOption, type SessionConfig, type VadSegmenterOptions, WsError } from '@ws/core'
import type { InputEncoding } from './audio-input.js'

/**
 * An OpenAI Realtime transcription session's settings, in one form for both of OpenAI's
 * shapes: the beta's flat `transcription_session` and GA's nested `session.audio.input`.
 */
export interface RealtimeSettings {
  format: 'pcm16' | 'g711_ulaw' | 'g711_alaw'
  transcription: { model: string; language: string | null; prompt: string }
  turnDetection: TurnDetection | null
  noiseReduction: unknown
  include: string[] | null
}

export type TurnDetection =
  | { type: 'server_vad'; threshold: number; prefix_padding_ms: number; silence_duration_ms: number }
  | { type: 'semantic_vad'; eagerness: 'low' | 'medium' | 'high' | 'auto' }

/** OpenAI's defaults for a new session. */
export const DEFAULT_REALTIME_SETTINGS: RealtimeSettings = {
  format: 'pcm16',
  transcription: { model: 'whisper-1', language: null, prompt: '' },
  turnDetection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
  noiseReduction: null,
  include: null,
}

/**
 * `semantic_vad` as silence, since this server's VAD hears no meaning: `eagerness` low waits
 * 1000 ms, medium and auto 500 ms (OpenAI's `server_vad` default), high 250 ms.
 */
export const SEMANTIC_VAD_SILENCE_MS = { low: 1000, medium: 500, auto: 500, high: 250 } as const

const GA_FORMATS: Record<string, RealtimeSettings['format']> = {
  'audio/pcm': 'pcm16',
  'audio/pcmu': 'g711_ulaw',
  'audio/pcma': 'g711_alaw',
}
const GA_FORMAT_OF: Record<RealtimeSettings['format'], object> = {
  pcm16: { type: 'audio/pcm', rate: 24000 },
  g711_ulaw: { type: 'audio/pcmu' },
  g711_alaw: { type: 'audio/pcma' },
}

const bad = (message: string, param: string): never => {
  throw new WsError('invalid_config', message, { details: { param } })
}
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null

function number(x: unknown, name: string, min: number, max: number, fallback: number): number {
  if (x === undefined || x === null) return fallback
  if (typeof x !== 'number' || !(x >= min && x <= max))
    bad(`${name} must be a number from ${min} to ${max}`, name)
  return x as number
}

function turnDetection(x: unknown, current: TurnDetection | null): TurnDetection | null {
  if (x === undefined) return current
  if (x === null) return null
  if (!isObject(x)) return bad('turn_detection must be an object or null', 'turn_detection')
  const d = DEFAULT_REALTIME_SETTINGS.turnDetection as Extract<TurnDetection, { type: 'server_vad' }>
  if (x.type === 'semantic_vad') {
    const eagerness = x.eagerness ?? 'auto'
    if (!(typeof eagerness === 'string' && eagerness in SEMANTIC_VAD_SILENCE_MS))
      bad('turn_detection.eagerness must be low, medium, high or auto', 'turn_detection.eagerness')
    return { type: 'semantic_vad', eagerness: eagerness as 'auto' }
  }
  if (x.type !== undefined && x.type !== 'server_vad')
    bad('turn_detection.type must be server_vad or semantic_vad', 'turn_detection.type')
  return {
    type: 'server_vad',
    threshold: number(x.threshold, 'turn_detection.threshold', 0, 1, d.threshold),
    prefix_padding_ms: number(
      x.prefix_padding_ms,
      'turn_detection.prefix_padding_ms',
      0,
      5000,
      d.prefix_padding_ms,
    ),
    silence_duration_ms: number(
      x.silence_duration_ms,
      'turn_detection.silence_duration_ms',
      0,
      10_000,
      d.silence_duration_ms,
    ),
  }
}

function transcription(x: unknown, current: RealtimeSettings['transcription']) {
  if (x === undefined || x === null) return current
  if (!isObject(x)) return bad('transcription must be an object', 'transcription')
  const language = x.language === undefined ? current.language : x.language
  if (language !== null && language !== '') {
    if (typeof language !== 'string') bad('transcription.language must be a string', 'transcription.language')
    checkSessionOption('language', (language as string).split('-')[0]!.toLowerCase())
  }
  return {
    model: typeof x.model === 'string' ? x.model : current.model,
    language: (language || null) as string | null,
    prompt: typeof x.prompt === 'string' ? x.prompt : current.prompt,
  }
}

/** Applies a beta `transcription_session.update` (or flat `session.update`) session object. */
export function applyBetaSession(s: RealtimeSettings, session: unknown): RealtimeSettings {
  if (!isObject(session)) return bad('session must be an object', 'session')
  const format = session.input_audio_format ?? s.format
  if (!(format === 'pcm16' || format === 'g711_ulaw' || format === 'g711_alaw'))
    bad('input_audio_format must be pcm16, g711_ulaw or g711_alaw', 'session.input_audio_format')
  return {
    format: format as RealtimeSettings['format'],
    transcription: transcription(session.input_audio_transcription, s.transcription),
    turnDetection: turnDetection(session.turn_detection, s.turnDetection),
    noiseReduction: session.input_audio_noise_reduction ?? s.noiseReduction,
    include: Array.isArray(session.include) ? (session.include as string[]) : s.include,
  }
}

/** Applies a GA `session.update` session object (`type: "transcription"`). */
export function applyGaSession(s: RealtimeSettings, session: unknown): RealtimeSettings {
  if (!isObject(session)) return bad('session must be an object', 'session')
  if (session.type !== undefined && session.type !== 'transcription') {
    bad(
      `session.type "${String(session.type)}" is not served: this server transcribes (use type "transcription")`,
      'session.type',
    )
  }
  const input = isObject(session.audio) && isObject(session.audio.input) ? session.audio.input : {}
  let format = s.format
  if (input.format !== undefined) {
    const type = isObject(input.format) ? input.format.type : undefined
    const mapped = typeof type === 'string' ? GA_FORMATS[type] : undefined
    if (!mapped)
      bad('audio.input.format.type must be audio/pcm, audio/pcmu or audio/pcma', 'session.audio.input.format')
    if (
      mapped === 'pcm16' &&
      isObject(input.format) &&
      input.format.rate !== undefined &&
      input.format.rate !== 24000
    )
      bad('audio/pcm is 24000 Hz', 'session.audio.input.format.rate')
    format = mapped as RealtimeSettings['format']
  }
  return {
    format,
    transcription: transcription(input.transcription, s.transcription),
    turnDetection: turnDetection(input.turn_detection, s.turnDetection),
    noiseReduction: input.noise_reduction ?? s.noiseReduction,
    include: Array.isArray(session.include) ? (session.include as string[]) : s.include,
  }
}

/** The session object as a beta client reads it. */
export function betaSession(id: string, s: RealtimeSettings) {
  return {
    id,
    object: 'realtime.transcription_session',
    input_audio_format: s.format,
    input_audio_transcription: s.transcription,
    turn_detection: s.turnDetection,
    input_audio_noise_reduction: s.noiseReduction,
    include: s.include,
    modalities: ['text'],
  }
}

/** The session object as a GA client reads it. */
export function gaSession(id: string, s: RealtimeSettings) {
  return {
    type: 'transcription',
    id,
    object: 'realtime.transcription_session',
    audio: {
      input: {
        format: GA_FORMAT_OF[s.format],
        transcription: s.transcription,
        turn_detection: s.turnDetection,
        noise_reduction: s.noiseReduction,
      },
    },
    include: s.include,
  }
}

/** The least `silence_duration_ms` served: shorter ones are raised to it. */
export const MIN_SILENCE_MS = 150

/** The audio's encoding and rate. */
export function inputOf(s: RealtimeSettings): { encoding: InputEncoding; sampleRate: number } {
  if (s.format === 'g711_ulaw') return { encoding: 'mulaw', sampleRate: 8000 }
  if (s.format === 'g711_alaw') return { encoding: 'alaw', sampleRate: 8000 }
  return { encoding: 'linear16', sampleRate: 24_000 }
}

/**
 * The streaming session for these settings: `turn_detection` null is manual commit only (the
 * client's `commit` ends each utterance); `server_vad`'s `silence_duration_ms` is the VAD's
 * hangover (at least {@link MIN_SILENCE_MS}), `prefix_padding_ms` its pre-roll and `threshold` its speech
 * threshold (Silero's own; the WebRTC VAD's aggressiveness, see `webrtcAggressiveness`).
 */
export function sessionConfigOf(s: RealtimeSettings): {
  config: SessionConfig
  vadSegmenter?: VadSegmenterOptions
} {
  const language = s.transcription.language?.split('-')[0]?.toLowerCase()
  const config: SessionConfig = {
    sample_rate: inputOf(s).sampleRate,
    vad: s.turnDetection ? 'server' : 'client',
    partial_interval_ms: 0,
    revisions: false,
    ...(language ? { language } : {}),
  }
  const t = s.turnDetection
  if (!t) return { config }
  const silence = t.type === 'semantic_vad' ? SEMANTIC_VAD_SILENCE_MS[t.eagerness] : t.silence_duration_ms
  // At least the longest post-padding of the VADs, which the segmenter keeps within it.
  const hangoverMs = Math.max(MIN_SILENCE_MS, silence)
  const vadSegmenter: VadSegmenterOptions = {
    hangoverMs,
    ...(t.type === 'server_vad' ? { prePaddingMs: t.prefix_padding_ms } : {}),
  }
  return { config, vadSegmenter, ...(t.type === 'server_vad' ? { vadThreshold: t.threshold } : {}) }
}
