import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { errorMessage, requestUrl, WsError, withDefaults } from '@ws/core'
import { refuseUpgrade } from '@ws/core/node'
import type { VoiceOptions } from './options.js'
import { VoiceEndpoint } from './voice-endpoint.js'

export interface VoiceServerOptions extends VoiceOptions {
  /** Default 8766; 0 picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** A directory served at `/` (a page, its scripts), if any. */
  staticDir?: string
}

export const DEFAULT_VOICE_SERVER_OPTIONS = { port: 8766, host: '127.0.0.1' } as const

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
}

/**
 * A voice endpoint on its own HTTP server: `/voice/stream`, the spoken sentences, and
 * optionally a static page.
 *
 * ```ts
 * const server = createVoiceServer({ backend, chat, tts, port: 0 })
 * const { port } = await server.listen()
 * // ws://127.0.0.1:${port}/voice/stream
 * await server.close()
 * ```
 */
export class VoiceServer {
  readonly endpoint: VoiceEndpoint
  readonly #http: Server
  readonly #o: VoiceServerOptions & Required<Pick<VoiceServerOptions, 'port' | 'host'>>
  #closing: Promise<void> | undefined

  constructor(options: VoiceServerOptions) {
    this.#o = withDefaults(DEFAULT_VOICE_SERVER_OPTIONS, options)
    const { port } = this.#o
    if (!(Number.isInteger(port) && port >= 0 && port <= 65_535))
      throw new WsError('invalid_config', `port must be from 0 to 65535, got ${port}`)
    this.endpoint = new VoiceEndpoint(options)
    this.#http = createHttpServer((req, res) => {
      if (this.endpoint.handleRequest(req, res)) return
      void this.#static(req.url ?? '/', req.method ?? 'GET').then(([status, type, body]) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' })
        res.end(req.method === 'HEAD' ? undefined : body)
      })
    })
    this.#http.on('upgrade', (req, socket, head) => {
      if (!this.endpoint.handleUpgrade(req, socket, head))
        refuseUpgrade(socket, 404, new WsError('not_found', `No WebSocket endpoint at ${req.url}`))
    })
  }

  /** The base URL, e.g. `http://127.0.0.1:8766`; empty before `listen()`. */
  get url(): string {
    const a = this.#http.address() as AddressInfo | null
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : ''
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject)
      this.#http.listen(this.#o.port, this.#o.host, () => {
        this.#http.off('error', reject)
        resolve(this.#http.address() as AddressInfo)
      })
    })
  }

  /** Closes the sessions and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#http.close(() => resolve()))
      this.#http.closeIdleConnections()
      await this.endpoint.close()
      this.#http.closeAllConnections()
      if (this.#http.listening) await stopped
    })()
    return this.#closing
  }

  async #static(url: string, method: string): Promise<[number, string, Buffer | string]> {
    const notFound: [number, string, string] = [
      404,
      'application/json',
      JSON.stringify(errorMessage(new WsError('not_found', `Nothing at ${url}`))),
    ]
    const dir = this.#o.staticDir
    if (!dir || (method !== 'GET' && method !== 'HEAD')) return notFound
    let path: string
    try {
      path = decodeURIComponent(requestUrl(url).pathname)
    } catch {
      return notFound
    }
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(normalize(dir) + sep) && file !== normalize(dir)) return notFound
    try {
      return [200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file)]
    } catch {
      return notFound
    }
  }
}

export function createVoiceServer(options: VoiceServerOptions): VoiceServer {
  return new VoiceServer(options)
}
