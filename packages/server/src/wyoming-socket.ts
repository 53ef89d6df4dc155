import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { toWsError, type WsError } from '@ws/core'
import { encodeWyomingEvent, WyomingFrameParser } from './protocols/wyoming-framing.js'
import type { ClientSocket } from './socket-data.js'

/** How long a socket being closed may take to flush to its client before it is destroyed. */
export const WYOMING_CLOSE_TIMEOUT_MS = 5000

const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/**
 * A Wyoming TCP connection as a {@link ClientSocket}: the byte stream is cut into events (a
 * {@link WyomingFrameParser}) and each event is one message; a message sent (`{type, data}`
 * as JSON) is written as a Wyoming event. A stream that cannot be cut (a bad header, an event
 * over the limits) is answered with `onFramingError`'s `error` event and ended: no event
 * after it can be found. Reading pauses and resumes with the socket, so TCP pushes back on a
 * client that sends faster than the session takes.
 */
export class WyomingSocket extends EventEmitter implements ClientSocket {
  readonly OPEN = OPEN
  readonly #socket: Socket
  readonly #parser: WyomingFrameParser
  #state = OPEN
  #closeTimer: NodeJS.Timeout | undefined

  constructor(socket: Socket, options: { maxBodyBytes: number; onFramingError?: (error: WsError) => void }) {
    super()
    this.#socket = socket
    this.#parser = new WyomingFrameParser({ maxBodyBytes: options.maxBodyBytes })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      if (this.#state !== OPEN) return
      let events: ReturnType<WyomingFrameParser['push']>
      try {
        events = this.#parser.push(chunk)
      } catch (err) {
        const error = toWsError(err, 'invalid_frame')
        options.onFramingError?.(error)
        this.#write({ type: 'error', data: { text: error.message, code: error.code } })
        this.close()
        return
      }
      for (const event of events) this.emit('message', encodeWyomingEvent(event), true)
    })
    socket.on('error', (err) => this.emit('error', err))
    socket.on('close', () => {
      this.#state = CLOSED
      clearTimeout(this.#closeTimer)
      this.emit('close')
    })
  }

  get readyState(): number {
    return this.#state
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength
  }

  /** A message of the protocol (`{type, data}`) as a Wyoming event. */
  send(data: string): void {
    if (this.#state !== OPEN) return
    const { type, data: body } = JSON.parse(data) as { type: string; data?: Record<string, unknown> }
    this.#write({ type, data: body ?? {} })
  }

  #write(event: { type: string; data: Record<string, unknown> }): void {
    if (!this.#socket.writable) return
    this.#socket.write(encodeWyomingEvent(event))
  }

  /** Ends the stream once what was sent is written (Wyoming has no close codes); destroys it if that takes too long. */
  close(_code?: number, _reason?: string): void {
    if (this.#state !== OPEN) return
    this.#state = CLOSING
    this.#socket.end()
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), WYOMING_CLOSE_TIMEOUT_MS)
    this.#closeTimer.unref()
    // The client's own end is not waited for: the socket is done once it is written.
    this.#socket.once('finish', () => this.#socket.destroy())
  }

  terminate(): void {
    this.#socket.destroy()
  }

  pause(): void {
    this.#socket.pause()
  }

  resume(): void {
    this.#socket.resume()
  }
}
