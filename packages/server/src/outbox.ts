import { type Logger, WsError } from '@ws/core'
import type { ServerMetrics } from './metrics.js'
import type { Outgoing } from './protocols/protocol.js'
import type { ClientSocket } from './socket-data.js'

/**
 * The one way out to a client: every message a connection sends, in whatever protocol —
 * transcripts, errors, `ready`, the end — passes the slow-consumer guard. Past
 * `maxBufferedBytes` queued to the client, droppable messages (partials, which the next
 * partial or the final replaces) are skipped; past 8× it, the client gets the protocol's
 * `slow_consumer` error (if it has error messages) and `onSlowConsumer` closes it.
 */
export class Outbox {
  readonly #ws: ClientSocket
  readonly #metrics: ServerMetrics
  readonly #maxBufferedBytes: number
  readonly #log: Logger
  readonly #onSlowConsumer: () => void
  readonly #errorOf: (error: WsError, extra?: { retry_after_ms?: number }) => Outgoing | undefined
  #slow = false

  constructor(options: {
    ws: ClientSocket
    metrics: ServerMetrics
    maxBufferedBytes: number
    logger: Logger
    onSlowConsumer: () => void
    /** The protocol's message for an error, if it has one. */
    errorOf: (error: WsError, extra?: { retry_after_ms?: number }) => Outgoing | undefined
  }) {
    this.#ws = options.ws
    this.#metrics = options.metrics
    this.#maxBufferedBytes = options.maxBufferedBytes
    this.#log = options.logger
    this.#onSlowConsumer = options.onSlowConsumer
    this.#errorOf = options.errorOf
  }

  send(outgoing: Outgoing): void {
    const ws = this.#ws
    if (ws.readyState !== ws.OPEN || this.#slow) return
    if (ws.bufferedAmount > this.#maxBufferedBytes * 8) {
      this.#slow = true
      const error = new WsError('slow_consumer', 'The client is not reading its messages; closing')
      this.#metrics.errors.inc({ code: error.code })
      this.#log.info({ bufferedBytes: ws.bufferedAmount }, 'slow consumer closed')
      const message = this.#errorOf(error)
      if (message) ws.send(JSON.stringify(message.message))
      this.#onSlowConsumer()
      return
    }
    if (outgoing.droppable && ws.bufferedAmount > this.#maxBufferedBytes) {
      this.#metrics.partialsSkipped.inc()
      return
    }
    if (outgoing.errorCode) this.#metrics.errors.inc({ code: outgoing.errorCode })
    ws.send(JSON.stringify(outgoing.message))
  }

  /** Sends the protocol's message of `error`; false when the protocol has none. */
  sendError(error: WsError, extra: { retry_after_ms?: number } = {}): boolean {
    this.#log.info({ code: error.code, message: error.message }, 'error sent to client')
    const message = this.#errorOf(error, extra)
    if (!message) {
      this.#metrics.errors.inc({ code: error.code })
      return false
    }
    this.send(message)
    return true
  }
}
