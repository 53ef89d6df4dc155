import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { type Logger, WsError } from '@ws/core'
import { packageVersion } from '@ws/core/node'
import type { Engine } from './engine.js'
import type { ServerMetrics } from './metrics.js'
import { WyomingProtocol, type WyomingServed } from './protocols/wyoming.js'
import type { WhisperStreamServer } from './server.js'
import { connectionsRefusal } from './slots.js'
import { WyomingSocket } from './wyoming-socket.js'

export interface WyomingListenerOptions {
  host: string
  port: number
  /** The largest event (extra data and payload) taken; larger ones end the connection. */
  maxBodyBytes: number
  served: WyomingServed
  metrics: ServerMetrics
  logger: Logger
  /** Why a new connection is refused now (shutting down, too many connections), if it is. */
  refusal: () => { reason: string; error: WsError } | undefined
  /** Runs an admitted connection as the server runs its WebSocket ones. */
  accept: (socket: WyomingSocket, protocol: WyomingProtocol) => void
}

/**
 * The Wyoming TCP port: each connection gets a {@link WyomingProtocol} over a
 * {@link WyomingSocket}, handed to the server's `accept`, so it has the same session, limits,
 * admission, metrics and logs as a WebSocket. A refused connection gets Wyoming's `error`
 * event and is ended. Wyoming carries no credentials: the port takes none.
 */
export class WyomingListener {
  readonly #o: WyomingListenerOptions
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #closing: Promise<void> | undefined

  constructor(options: WyomingListenerOptions) {
    this.#o = options
    this.#server = createServer((socket) => this.#connection(socket))
  }

  async listen(): Promise<AddressInfo> {
    const server = this.#server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return this.address()!
  }

  address(): AddressInfo | null {
    const a = this.#server.address()
    return a && typeof a === 'object' ? a : null
  }

  #connection(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    const o = this.#o
    const wyoming = new WyomingSocket(socket, {
      maxBodyBytes: o.maxBodyBytes,
      onFramingError: (error) => {
        o.metrics.errors.inc({ code: error.code })
        o.logger.info({ code: error.code, message: error.message }, 'wyoming stream not readable; closing')
      },
    })
    const refused = this.#closing ? { reason: 'draining', error: shuttingDown() } : o.refusal()
    if (refused) {
      o.metrics.refusals.inc({ reason: refused.reason })
      o.metrics.errors.inc({ code: refused.error.code })
      o.logger.info({ reason: refused.reason, code: refused.error.code }, 'wyoming connection refused')
      wyoming.on('error', () => {})
      wyoming.send(
        JSON.stringify({ type: 'error', data: { text: refused.error.message, code: refused.error.code } }),
      )
      wyoming.close()
      return
    }
    o.accept(wyoming, new WyomingProtocol(o.served))
  }

  /**
   * Stops taking connections; resolves once the port is closed and every socket it took is
   * gone (the server finishes its sessions first). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
    return this.#closing
  }

  /** Destroys the sockets still open (after the server's shutdown grace). */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy()
  }
}

function shuttingDown(): WsError {
  return new WsError('server_busy', 'The server is shutting down', { retryable: true })
}

/**
 * Starts the server's Wyoming port (`wyomingPort`, on `host`): `describe` reports the engine
 * it serves, and connections count against `maxConnections` with the WebSocket ones.
 */
export async function startWyoming(
  server: WhisperStreamServer,
  live: { engine: Engine; metrics: ServerMetrics },
  accept: WyomingListenerOptions['accept'],
): Promise<WyomingListener> {
  const o = server.options
  const multilingual = (live.engine.backend as { multilingual?: boolean }).multilingual !== false
  const listener = new WyomingListener({
    host: o.host,
    port: o.wyomingPort ?? 10_300,
    maxBodyBytes: o.maxMessageBytes,
    served: {
      model: live.engine.model,
      multilingual: multilingual && !/\.en$/.test(live.engine.model),
      version: packageVersion(new URL('../package.json', import.meta.url)),
    },
    metrics: live.metrics,
    logger: server.logger,
    refusal: () => connectionsRefusal(server.connections, o.maxConnections),
    accept,
  })
  const address = await listener.listen()
  if (o.authToken)
    server.logger.warn(
      { port: address.port },
      'the Wyoming port takes no token (the protocol carries none): keep it on a trusted network',
    )
  server.logger.info({ host: address.address, port: address.port }, 'wyoming listening')
  return listener
}
