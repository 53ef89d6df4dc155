import { errorMessage, type Logger, type ServerMessage, WsError } from '@ws/core'
import type { WebSocket } from 'ws'
import type { ServerMetrics } from './metrics.js'

/**
 * The one way out to a client: every message a connection sends — transcripts, errors,
 * `ready`, `session_end` — passes the slow-consumer guard. Past `maxBufferedBytes` queued to
 * the client, partials are skipped (the next partial or the final replaces them); past 8× it,
 * the client gets one `slow_consumer` error and `onSlowConsumer` closes it.
 */
export class Outbox {
  readonly #ws: WebSocket
  readonly #metrics: ServerMetrics
  readonly #maxBufferedBytes: number
  readonly #log: Logger
  readonly #onSlowConsumer: () => void
  #slow = false

  constructor(options: {
    ws: WebSocket
    metrics: ServerMetrics
    maxBufferedBytes: number
    logger: Logger
    onSlowConsumer: () => void
  }) {
    this.#ws = options.ws
    this.#metrics = options.metrics
    this.#maxBufferedBytes = options.maxBufferedBytes
    this.#log = options.logger
    this.#onSlowConsumer = options.onSlowConsumer
  }

  send(message: ServerMessage): void {
    const ws = this.#ws
    if (ws.readyState !== ws.OPEN || this.#slow) return
    if (ws.bufferedAmount > this.#maxBufferedBytes * 8) {
      this.#slow = true
      const error = new WsError('slow_consumer', 'The client is not reading its messages; closing')
      this.#metrics.errors.inc({ code: error.code })
      this.#log.info({ bufferedBytes: ws.bufferedAmount }, 'slow consumer closed')
      ws.send(JSON.stringify(errorMessage(error)))
      this.#onSlowConsumer()
      return
    }
    if (message.type === 'partial' && ws.bufferedAmount > this.#maxBufferedBytes) {
      this.#metrics.partialsSkipped.inc()
      return
    }
    if (message.type === 'error') this.#metrics.errors.inc({ code: message.code })
    ws.send(JSON.stringify(message))
  }

  sendError(error: WsError, extra: { retry_after_ms?: number } = {}): void {
    this.#log.info({ code: error.code, message: error.message }, 'error sent to client')
    this.send(errorMessage(error, extra))
  }
}
