import {
  type ErrorMessage,
  parseServerMessage,
  type ServerMessage,
  type SessionConfig,
  type StrategyName,
  sessionConfigQuery,
  WsError,
} from '@ws/core'

import type { SocketFactory } from './socket.js'

// The options and events of a client session, its URL, and the error of a refused connection.

export interface ReconnectOptions {
  /** Attempts after a connection is lost (default 5). */
  maxAttempts?: number
  /** First delay; each attempt doubles it, with ±50 % jitter (default 250). */
  initialDelayMs?: number
  maxDelayMs?: number
  /**
   * Seconds of the latest audio kept to send again after a reconnection (default 30; 0 =
   * none): the new connection gets everything no server finalised, from where the old one
   * said it stopped (`session_end`) or its last final ended, so a drained or restarted server
   * loses nothing that recent. About 1 MB at 16 kHz PCM16.
   */
  replaySeconds?: number
}

/** The strategy of a session whose URL does not name one: `prompt`, the cheapest, with the
 * lowest latency, and as accurate as the others on the project's benchmark. */
export const DEFAULT_STRATEGY: StrategyName = 'prompt'

export const DEFAULT_RECONNECT_OPTIONS = {
  maxAttempts: 5,
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  replaySeconds: 30,
} as const

export interface ConnectOptions extends SessionConfig {
  /** The strategy, when `url` is the server's base URL (default {@link DEFAULT_STRATEGY}). */
  strategy?: StrategyName
  /** Sent as `?token=` (the server's `--token`). */
  token?: string
  /**
   * Who said what: each final's and revision's segments (and words) carry `speaker` (`A`,
   * `B`, … kept for the session); the server needs `@ws/diarize`. Off by default.
   */
  diarize?: boolean
  /** Give up connecting after this long (default 10 000). */
  connectTimeoutMs?: number
  /** Reconnect after a lost connection (not after `end`, `close` or a refusal); off by default. */
  reconnect?: boolean | ReconnectOptions
  /** Aborting closes the session. */
  signal?: AbortSignal
  /**
   * How the WebSocket is opened (default: `ws` from `@ws/client`, the runtime's global
   * WebSocket from `@ws/client`'s browser build).
   */
  socket?: SocketFactory
}

/**
 * A new connection replaced a lost one. The audio in `lost` (stream seconds; empty when
 * `start` equals `end`) was not transcribed; `replayed` seconds after it, which no server had
 * finalised, were sent again to the new connection.
 */
export interface ReconnectedEvent {
  type: 'reconnected'
  session_id: string
  attempt: number
  lost: { start: number; end: number }
  replayed: number
}

/** The connection was lost and a new one is being made. */
export interface ReconnectingEvent {
  type: 'reconnecting'
  attempt: number
  delay_ms: number
  code: number
}

export type ClientEvent = ServerMessage | ReconnectedEvent | ReconnectingEvent
export type ClientEventType = ClientEvent['type']
export type EventOf<T extends ClientEventType> = Extract<ClientEvent, { type: T }>

/** The server's URL for a strategy, with the session options as query parameters. */
export function sessionUrl(url: string, options: ConnectOptions = {}): string {
  const u = new URL(url)
  if (u.protocol === 'http:') u.protocol = 'ws:'
  if (u.protocol === 'https:') u.protocol = 'wss:'
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new WsError('invalid_config', `The URL must be ws://, wss://, http:// or https://, got ${url}`)
  }
  if (!u.pathname.startsWith('/ws/transcribe/')) {
    u.pathname = `${u.pathname.replace(/\/$/, '')}/ws/transcribe/${options.strategy ?? DEFAULT_STRATEGY}`
  }
  for (const [k, v] of sessionConfigQuery(options)) u.searchParams.set(k, v)
  if (options.token !== undefined) u.searchParams.set('token', options.token)
  return u.toString()
}

/** A server's error message as a {@link WsError}; a refusal's `retry_after_ms` is in `details`. */
export function errorOf(m: ErrorMessage): WsError {
  const details = m.retry_after_ms === undefined ? {} : { details: { retry_after_ms: m.retry_after_ms } }
  return new WsError(m.code, m.message, { retryable: m.retryable ?? false, ...details })
}

/** The error of a refused upgrade: the server's error message, else one made from the status. */
export function refusalError(status: number, body: string): ErrorMessage {
  try {
    const message = parseServerMessage(body)
    if (message.type === 'error') return message
  } catch {}
  const code =
    status === 401
      ? 'unauthorized'
      : status === 404
        ? 'not_found'
        : status === 503
          ? 'server_busy'
          : 'connection_failed'
  return {
    type: 'error',
    code,
    message: `The server refused the connection (HTTP ${status})`,
    retryable: status === 503,
  }
}
