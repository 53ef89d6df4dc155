import { WsError } from '@ws/core'
import type { ClientSocket, SocketFactory } from './socket.js'

/** The part of the WHATWG WebSocket this client uses (browsers, Deno, Node ≥ 22). */
interface WhatwgWebSocket {
  readonly readyState: number
  readonly bufferedAmount: number
  binaryType: string
  send(data: string | ArrayBufferView): void
  close(code?: number): void
  addEventListener(type: 'open', fn: () => void): void
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void
  addEventListener(type: 'close', fn: (e: { code: number; reason: string }) => void): void
}
type WhatwgWebSocketClass = (new (
  url: string,
) => WhatwgWebSocket) & { readonly OPEN: number; readonly CONNECTING: number }

/**
 * A socket on the runtime's global WebSocket. A browser does not show why a connection was
 * refused before the handshake (no status, no body): that arrives as close 1006.
 */
export const browserSocket: SocketFactory = (url, events, connectTimeoutMs): ClientSocket => {
  const WebSocketClass = (globalThis as { WebSocket?: WhatwgWebSocketClass }).WebSocket
  if (!WebSocketClass)
    throw new WsError(
      'invalid_config',
      'This runtime has no global WebSocket: in Node, import @ws/client, not its browser build',
    )
  const ws = new WebSocketClass(url)
  ws.binaryType = 'arraybuffer'
  const timer = setTimeout(() => {
    if (ws.readyState === WebSocketClass.CONNECTING) ws.close()
  }, connectTimeoutMs)
  ws.addEventListener('open', () => {
    clearTimeout(timer)
    events.onOpen()
  })
  ws.addEventListener('message', (e) => {
    if (typeof e.data === 'string') events.onText(e.data)
  })
  ws.addEventListener('close', (e) => {
    clearTimeout(timer)
    events.onClose(e.code, e.reason)
  })
  return {
    get isOpen() {
      return ws.readyState === WebSocketClass.OPEN
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    send: (data) => ws.send(data),
    close: (code) => ws.close(code),
  }
}
