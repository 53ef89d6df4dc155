import { ERROR_CODES, type ErrorCode, WsError } from '../errors.js'
import { isStrategyName, type StrategyName } from '../strategies/strategy.js'
import {
  type ClientMessage,
  ENCODINGS,
  type Encoding,
  type ServerMessage,
  type SessionConfig,
  VAD_MODES,
  type VadMode,
} from './messages.js'

/**
 * Validators for protocol v1. Anything malformed throws a {@link WsError} whose code is the
 * protocol's error code (`invalid_message`, `invalid_config`, `unsupported_encoding`,
 * `unsupported_sample_rate`), with a one-line message naming the offending field.
 */

const MAX_SAMPLE_RATE = 768_000
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z]{2,4})?$/

type Json = Record<string, unknown>

function invalid(message: string, code: ErrorCode = 'invalid_message'): never {
  throw new WsError(code, message)
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const CONFIG_KEYS = new Set([
  'language',
  'sample_rate',
  'encoding',
  'vad',
  'partial_interval_ms',
  'word_timestamps',
  'task',
])

function checkSampleRate(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1000 || value > MAX_SAMPLE_RATE) {
    invalid(
      `sample_rate must be an integer from 1000 to ${MAX_SAMPLE_RATE}, got ${JSON.stringify(value)}`,
      'unsupported_sample_rate',
    )
  }
  return value
}

/**
 * Checks session options (from a `config` message, or query parameters converted by
 * {@link parseQueryConfig}). Unknown keys are refused so that typos do not pass silently.
 */
export function validateSessionConfig(input: Json, where = 'config'): SessionConfig {
  const out: SessionConfig = {}
  for (const [key, value] of Object.entries(input)) {
    if (key === 'type') continue
    if (!CONFIG_KEYS.has(key)) invalid(`Unknown ${where} option "${key}"`, 'invalid_config')
    if (value === undefined || value === null) continue
    switch (key) {
      case 'language':
        if (typeof value !== 'string' || !(value === 'auto' || LANGUAGE.test(value))) {
          invalid(
            `language must be a language code such as "en", or "auto"; got ${JSON.stringify(value)}`,
            'invalid_config',
          )
        }
        if (value !== 'auto') out.language = value
        break
      case 'sample_rate':
        out.sample_rate = checkSampleRate(value)
        break
      case 'encoding':
        if (!(ENCODINGS as readonly unknown[]).includes(value)) {
          invalid(
            `encoding must be one of ${ENCODINGS.join(', ')}; got ${JSON.stringify(value)}`,
            'unsupported_encoding',
          )
        }
        out.encoding = value as Encoding
        break
      case 'vad':
        if (!(VAD_MODES as readonly unknown[]).includes(value)) {
          invalid(
            `vad must be one of ${VAD_MODES.join(', ')}; got ${JSON.stringify(value)}`,
            'invalid_config',
          )
        }
        out.vad = value as VadMode
        break
      case 'partial_interval_ms':
        if (
          typeof value !== 'number' ||
          !Number.isInteger(value) ||
          !(value === 0 || (value >= 50 && value <= 60_000))
        ) {
          invalid(
            `partial_interval_ms must be 0 (off) or an integer from 50 to 60000; got ${JSON.stringify(value)}`,
            'invalid_config',
          )
        }
        out.partial_interval_ms = value
        break
      case 'word_timestamps':
        if (typeof value !== 'boolean')
          invalid(`word_timestamps must be true or false; got ${JSON.stringify(value)}`, 'invalid_config')
        out.word_timestamps = value
        break
      case 'task':
        if (value !== 'transcribe' && value !== 'translate') {
          invalid(`task must be "transcribe" or "translate"; got ${JSON.stringify(value)}`, 'invalid_config')
        }
        out.task = value
        break
    }
  }
  return out
}

/**
 * Session options from URL query parameters (strings), e.g.
 * `?sample_rate=48000&encoding=pcm_f32le&vad=client&word_timestamps=true`. Parameters that
 * are not options (such as an auth `token`) can be listed in `ignore`.
 */
export function parseQueryConfig(
  params: URLSearchParams,
  ignore: readonly string[] = ['token'],
): SessionConfig {
  const raw: Json = {}
  for (const [key, value] of params) {
    if (ignore.includes(key)) continue
    switch (key) {
      case 'sample_rate':
      case 'partial_interval_ms':
        raw[key] = /^\d+$/.test(value) ? Number(value) : value
        break
      case 'word_timestamps':
        raw[key] =
          value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value
        break
      default:
        raw[key] = value
    }
  }
  return validateSessionConfig(raw, 'query')
}

/** Parses and checks one client text frame. */
export function parseClientMessage(text: string): ClientMessage {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    invalid('Message is not valid JSON')
  }
  if (!isObject(data)) invalid('Message must be a JSON object')
  const type = data.type
  if (typeof type !== 'string') invalid('Message has no "type"')
  switch (type) {
    case 'audio_frame': {
      if (typeof data.audio !== 'string')
        invalid('audio_frame needs "audio": base64 of float32 little-endian samples')
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data.audio) || data.audio.length % 4 !== 0)
        invalid('audio_frame "audio" is not base64')
      const message: ClientMessage = { type, audio: data.audio }
      if (data.sample_rate !== undefined) message.sample_rate = checkSampleRate(data.sample_rate)
      return message
    }
    case 'config':
      return { type, ...validateSessionConfig(data) }
    case 'vad_end':
    case 'cancel':
    case 'keepalive':
    case 'end':
      return { type }
    default:
      invalid(`Unknown message type "${type}"`)
  }
}

function num(data: Json, key: string): number {
  const v = data[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(`"${key}" must be a number`)
  return v
}

function str(data: Json, key: string): string {
  const v = data[key]
  if (typeof v !== 'string') invalid(`"${key}" must be a string`)
  return v
}

/** Parses and checks one server text frame (for clients). */
export function parseServerMessage(text: string): ServerMessage {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    invalid('Server message is not valid JSON')
  }
  if (!isObject(data)) invalid('Server message must be a JSON object')
  switch (data.type) {
    case 'ready': {
      const strategy = str(data, 'strategy')
      if (!isStrategyName(strategy)) invalid(`Unknown strategy "${strategy}"`)
      str(data, 'session_id')
      str(data, 'backend')
      str(data, 'model')
      num(data, 'sample_rate')
      return data as unknown as ServerMessage & { strategy: StrategyName }
    }
    case 'partial':
      num(data, 'utterance_id')
      str(data, 'text')
      str(data, 'stable')
      str(data, 'unstable')
      num(data, 'audio_start')
      num(data, 'audio_end')
      return data as unknown as ServerMessage
    case 'final':
      num(data, 'utterance_id')
      str(data, 'text')
      str(data, 'language')
      num(data, 'audio_start')
      num(data, 'audio_end')
      if (!Array.isArray(data.segments)) invalid('"segments" must be an array')
      return data as unknown as ServerMessage
    case 'speech_start':
    case 'speech_end':
      num(data, 't')
      return data as unknown as ServerMessage
    case 'error': {
      const code = str(data, 'code')
      if (!(ERROR_CODES as readonly string[]).includes(code)) invalid(`Unknown error code "${code}"`)
      str(data, 'message')
      return data as unknown as ServerMessage
    }
    default:
      invalid(`Unknown server message type ${JSON.stringify(data.type)}`)
  }
}

/** The strategy named by a transcription path such as `/ws/transcribe/context`; throws `not_found`. */
export function parseTranscribePath(pathname: string): StrategyName {
  const match = /^\/ws\/transcribe\/([^/]+)\/?$/.exec(pathname)
  if (!match) throw new WsError('not_found', `No WebSocket endpoint at ${pathname}`)
  const name = decodeURIComponent(match[1]!)
  if (!isStrategyName(name)) {
    throw new WsError('not_found', `Unknown strategy "${name}"; use prompt, context, hybrid or agreement`)
  }
  return name
}

/** Decodes the base64 float32 audio of an `audio_frame` message. */
export function decodeAudioFrame(message: { audio: string }): Float32Array {
  const bytes = base64ToBytes(message.audio)
  if (bytes.length % 4 !== 0)
    throw new WsError('invalid_audio', 'audio_frame audio is not a whole number of float32 samples')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Float32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) {
    const s = view.getFloat32(i * 4, true)
    if (!Number.isFinite(s)) throw new WsError('invalid_audio', `audio_frame sample ${i} is not finite`)
    out[i] = s
  }
  return out
}

/** Encodes float32 samples for an `audio_frame` message. */
export function encodeAudioFrame(samples: Float32Array): string {
  const bytes = new Uint8Array(samples.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true)
  return bytesToBase64(bytes)
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** A protocol `error` message for an error. */
export function errorMessage(
  error: WsError,
  extra: { utterance_id?: number; audio_start?: number; audio_end?: number } = {},
) {
  return {
    type: 'error' as const,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...extra,
  }
}
