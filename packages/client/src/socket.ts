// How a session reaches the server: a WebSocket behind a small interface, so the same session
// runs on `ws` in Node (node-socket.ts) and on the global WebSocket in browsers
// (browser-socket.ts).

/** What a socket reports to its session. */
export interface SocketEvents {
  onOpen(): void
  /** A text message (the protocol's JSON); binary messages are not part of the protocol. */
  onText(text: string): void
  /** Refused before the handshake with an HTTP status and body (where the runtime shows them). */
  onRefused(status: number, body: string): void
  /** Closed, or never opened (then `code` is 1006). Always the last call. */
  onClose(code: number, reason: string): void
}

export interface ClientSocket {
  readonly isOpen: boolean
  readonly bufferedAmount: number
  send(data: string | Uint8Array): void
  close(code: number): void
}

/** Opens a socket to `url`; gives up connecting after `connectTimeoutMs`. */
export type SocketFactory = (url: string, events: SocketEvents, connectTimeoutMs: number) => ClientSocket
