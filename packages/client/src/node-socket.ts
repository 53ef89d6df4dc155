import WebSocket from 'ws'
import type { ClientSocket, SocketFactory } from './socket.js'

/**
 * A socket on `ws`: Node 20 has no global WebSocket, and `ws` shows a refusal's HTTP status
 * and body (`server_busy`, `unauthorized` with their messages), which a browser hides.
 */
export const nodeSocket: SocketFactory = (url, events, connectTimeoutMs): ClientSocket => {
  const ws = new WebSocket(url, { handshakeTimeout: connectTimeoutMs })
  ws.on('open', () => events.onOpen())
  ws.on('message', (data, isBinary) => {
    if (!isBinary) events.onText(data.toString())
  })
  ws.on('unexpected-response', (_req, res) => {
    const chunks: Buffer[] = []
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    res.on('end', () => {
      events.onRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))
      ws.terminate()
    })
  })
  ws.on('error', () => {}) // the close event follows and decides
  ws.on('close', (code, reason) => events.onClose(code, reason.toString()))
  return {
    get isOpen() {
      return ws.readyState === WebSocket.OPEN
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    send: (data) => ws.send(data),
    close: (code) => ws.close(code),
  }
}
