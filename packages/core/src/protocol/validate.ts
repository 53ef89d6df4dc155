import { decodePcmF32le, encodePcmF32le } from '../audio/pcm.js'
import { ERROR_CODES, type ErrorCode, WsError } from '../errors.js'
import { isStrategyName, type StrategyName } from '../strategies/strategy.js'
import type { ClientMessage, ServerMessage } from './messages.js'
import {
  checkSessionOption,
  isSessionOptionName,
  type SessionConfig,
  sessionOptionFromQuery,
} from './session-options.js'

/**
 * Validators for protocol v1. Anything malformed throws a {@link WsError} whose code is the
 * protocol's error code (`invalid_message`, `invalid_config`, `unsupported_encoding`,
 * `unsupported_sample_rate`), with a one-line message naming the offending field.
 */

type Json = Record<string, unknown>

function invalid(message: string, code: ErrorCode = 'invalid_message'): never {
  throw new WsError(code, message)
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks session options (from a `config` message, or query parameters converted by
 * {@link parseQueryConfig}) against {@link SESSION_OPTIONS}. Unknown keys are refused so that
 * typos do not pass silently; `language: "auto"` is the same as no language.
 */
export function validateSessionConfig(input: Json, where = 'config'): SessionConfig {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    if (key === 'type') continue
    if (!isSessionOptionName(key)) invalid(`Unknown ${where} option "${key}"`, 'invalid_config')
    if (value === undefined || value === null) continue
    const checked = checkSessionOption(key, value)
    if (!(key === 'language' && checked === 'auto')) out[key] = checked
  }
  return out as SessionConfig
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
  // No prototype: `__proto__` is a key like any other (and an unknown one), not a setter.
  const raw: Json = Object.create(null)
  for (const [key, value] of params) {
    if (ignore.includes(key)) continue
    raw[key] = isSessionOptionName(key) ? sessionOptionFromQuery(key, value) : value
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
      if (data.sample_rate !== undefined)
        message.sample_rate = checkSessionOption('sample_rate', data.sample_rate)
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
    case 'revision':
      if (!Array.isArray(data.utterance_ids) || !data.utterance_ids.every((id) => typeof id === 'number'))
        invalid('"utterance_ids" must be an array of numbers')
      str(data, 'text')
      num(data, 'audio_start')
      num(data, 'audio_end')
      if (!Array.isArray(data.segments)) invalid('"segments" must be an array')
      return data as unknown as ServerMessage
    case 'speech_start':
    case 'speech_end':
      num(data, 't')
      return data as unknown as ServerMessage
    case 'session_end':
      str(data, 'reason')
      num(data, 'audio_end')
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
  let name: string
  try {
    name = decodeURIComponent(match[1]!)
  } catch {
    throw new WsError('not_found', `No WebSocket endpoint at ${pathname} (bad percent-encoding)`)
  }
  if (!isStrategyName(name)) {
    throw new WsError('not_found', `Unknown strategy "${name}"; use prompt, context, hybrid or agreement`)
  }
  return name
}

/** Decodes the base64 float32 audio of an `audio_frame` message; bad audio throws `invalid_audio`. */
export function decodeAudioFrame(message: { audio: string }): Float32Array {
  return decodePcmF32le(base64ToBytes(message.audio))
}

/** Encodes float32 samples for an `audio_frame` message. */
export function encodeAudioFrame(samples: Float32Array): string {
  return bytesToBase64(encodePcmF32le(samples))
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
  extra: { utterance_id?: number; audio_start?: number; audio_end?: number; retry_after_ms?: number } = {},
) {
  return {
    type: 'error' as const,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...extra,
  }
}

/**
 * The target of an HTTP request (`req.url`: `/path?query`) as a URL, for any string a client
 * sends: `new URL(target, base)` throws on some (`//`), which in a request handler would end
 * the process.
 */
export function requestUrl(target: string | undefined): URL {
  const t = target ?? '/'
  try {
    return new URL(`http://localhost${t.startsWith('/') ? '' : '/'}${t}`)
  } catch {
    return new URL('http://localhost/.invalid-request-target')
  }
}
