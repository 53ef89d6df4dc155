import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WsError } from '../errors.js'
import { errorMessage } from '../protocol/validate.js'

/**
 * Answers a WebSocket upgrade request with an HTTP error instead of a handshake (as ws's
 * `abortHandshake` does), and closes the socket: a status, `Retry-After` where waiting helps,
 * and the protocol's `error` message as the JSON body.
 */
export function refuseUpgrade(socket: Duplex, status: number, error: WsError, retryAfterMs?: number): void {
  // Node's HTTP server takes its 'error' listener off a socket it hands to 'upgrade' (ws's
  // handleUpgrade adds its own): without one, a peer that resets the connection (a proxy giving
  // up on a refused request) raised an unhandled ECONNRESET that ended the process.
  socket.on('error', () => socket.destroy())
  if (!socket.writable) return void socket.destroy()
  const body = JSON.stringify(
    errorMessage(error, retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }),
  )
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(retryAfterMs === undefined ? [] : [`Retry-After: ${Math.ceil(retryAfterMs / 1000)}`]),
  ]
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`)
}
