import { nodeSocket } from './node-socket.js'
import type { ConnectOptions } from './options.js'
import { TranscriptionSession as SessionOnAnySocket } from './session.js'

/**
 * A transcription session from Node: the session of {@link SessionOnAnySocket} on `ws`
 * (Node 20 has no global WebSocket, and `ws` reports why a connection was refused).
 */
export class TranscriptionSession extends SessionOnAnySocket {
  constructor(url: string, options: ConnectOptions = {}) {
    super(url, { ...options, socket: options.socket ?? nodeSocket })
  }
}

/** Opens a transcription session: `url` is the server (`ws://host:8765`) or a full `/ws/transcribe/…` URL. */
export function connect(url: string, options: ConnectOptions = {}): TranscriptionSession {
  return new TranscriptionSession(url, options)
}
