import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { parseQueryConfig, parseTranscribePath, type StrategyName, WsError } from '@ws/core'
import { DeepgramProtocol } from './deepgram.js'
import { parseDeepgramQuery } from './deepgram-query.js'
import { NativeProtocol } from './native.js'
import { OpenAIRealtimeProtocol } from './openai-realtime.js'
import type { WireProtocol } from './protocol.js'

/** Where a WebSocket path leads: one of the protocols, before its query is read. */
export type Route =
  | { protocol: 'native'; strategy: StrategyName }
  | { protocol: 'openai-realtime' }
  | { protocol: 'deepgram' }

/** The protocol at `pathname`; `not_found` (404) for any other path. */
export function routeOf(pathname: string): Route {
  if (pathname === '/v1/realtime' || pathname === '/v1/realtime/') return { protocol: 'openai-realtime' }
  if (pathname === '/v1/listen' || pathname === '/v1/listen/') return { protocol: 'deepgram' }
  return { protocol: 'native', strategy: parseTranscribePath(pathname) }
}

/** What a connection's adapter needs to know of the engine serving it. */
export interface ServedEngine {
  /** An override of the VAD's segmenter (the server's option), and the VAD's own hangover. */
  vadSegmenter?: { hangoverMs?: number } | undefined
  vadHangoverMs?: number | undefined
  /** The backend: whisper.cpp's and faster-whisper's say whether the model is `multilingual`. */
  backend?: object
}

/**
 * The protocol adapter for a connection; a bad query throws a `WsError` for a 400: one the
 * engine cannot serve too (another language, or a translation, on an English-only model).
 */
export function protocolFor(
  route: Route,
  url: URL,
  req: IncomingMessage,
  engine: ServedEngine = {},
): WireProtocol {
  const protocol = adapterFor(route, url, req, engine.vadSegmenter?.hangoverMs ?? engine.vadHangoverMs)
  const { language, task } = protocol.session().config
  if ((engine.backend as { multilingual?: boolean } | undefined)?.multilingual === false) {
    if (language && language !== 'en' && language !== 'auto')
      throw new WsError(
        'invalid_config',
        `The served model is English-only; it cannot transcribe language "${language}" (serve a multilingual one, e.g. base)`,
      )
    if (task === 'translate')
      throw new WsError('invalid_config', 'The served model is English-only; it cannot translate')
  }
  return protocol
}

function adapterFor(
  route: Route,
  url: URL,
  req: IncomingMessage,
  hangoverMs: number | undefined,
): WireProtocol {
  switch (route.protocol) {
    case 'native':
      return new NativeProtocol(route.strategy, parseQueryConfig(url.searchParams))
    case 'deepgram':
      return new DeepgramProtocol(parseDeepgramQuery(url.searchParams, hangoverMs))
    case 'openai-realtime':
      return new OpenAIRealtimeProtocol({
        beta:
          req.headers['openai-beta'] === 'realtime=v1' ||
          offeredProtocols(req).includes('openai-beta.realtime-v1'),
        query: url.searchParams,
      })
  }
}

/** The subprotocols a client offered, in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol']
  if (!header) return []
  return header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

/**
 * The subprotocol the server answers with: `realtime` for OpenAI's browser client, `token` or
 * `bearer` for Deepgram's (the key itself is never echoed); none otherwise.
 */
export function selectProtocol(offered: ReadonlySet<string>): string | false {
  for (const p of ['realtime', 'token', 'bearer']) if (offered.has(p)) return p
  return false
}

/**
 * Every key a request carries, in each protocol's place for it: `Authorization: Bearer|Token`,
 * OpenAI's `api-key` header (Azure) and `openai-insecure-api-key.<key>` subprotocol, Deepgram's
 * `token, <key>` / `bearer, <jwt>` subprotocols, and `?token=`.
 */
export function credentialsOf(req: IncomingMessage, url: URL): string[] {
  const keys: string[] = []
  const auth = req.headers.authorization
  const scheme = auth ? /^(Bearer|Token)\s+(.+)$/i.exec(auth) : null
  if (scheme) keys.push(scheme[2]!.trim())
  const apiKey = req.headers['api-key']
  if (typeof apiKey === 'string') keys.push(apiKey)
  const protocols = offeredProtocols(req)
  protocols.forEach((p, i) => {
    if (p.startsWith('openai-insecure-api-key.')) keys.push(p.slice('openai-insecure-api-key.'.length))
    if ((p === 'token' || p === 'bearer') && protocols[i + 1]) keys.push(protocols[i + 1]!)
  })
  const query = url.searchParams.get('token')
  if (query) keys.push(query)
  return keys
}

/** Whether any of the request's keys is `token` (compared in constant time). */
export function carriesToken(req: IncomingMessage, url: URL, token: string): boolean {
  const expected = Buffer.from(token)
  return credentialsOf(req, url).some((key) => {
    const given = Buffer.from(key)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

/** The HTTP status of a refused upgrade for a `WsError` from {@link routeOf} / {@link protocolFor}. */
export function refusalStatus(error: WsError): number {
  return error.code === 'not_found' ? 404 : 400
}
