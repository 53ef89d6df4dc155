import { WsError } from '@ws/core'

/**
 * Wyoming's framing: each event is one JSON header line (`{"type", "data"?, "data_length"?,
 * "payload_length"?, "version"?}` and a newline), then `data_length` bytes of JSON merged into
 * `data`, then `payload_length` bytes of payload (audio). This module only cuts a byte stream
 * into events and writes them; it knows no event types.
 */
export interface WyomingEvent {
  type: string
  data: Record<string, unknown>
  payload?: Uint8Array
}

/** The limits of one event; past them the stream cannot be trusted and is closed. */
export interface WyomingLimits {
  /** Longest header line, newline excluded (default 64 KiB). */
  maxHeaderBytes?: number
  /** Largest extra data plus payload of one event (default 1 MiB). */
  maxBodyBytes?: number
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
const NEWLINE = 0x0a

/** The version written into headers: the Wyoming release whose framing this follows. */
export const WYOMING_VERSION = '1.10.2'

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

function length(header: Record<string, unknown>, field: string): number {
  const n = header[field]
  if (n === undefined || n === null) return 0
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new WsError('invalid_frame', `${field} must be a non-negative integer`)
  return n
}

/** A header line as the event's type, data and the lengths of what follows it. */
export function parseHeader(line: Uint8Array): {
  type: string
  data: Record<string, unknown>
  dataLength: number
  payloadLength: number
} {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(line).toString('utf8'))
  } catch {
    throw new WsError('invalid_frame', 'An event header is not a JSON line')
  }
  if (!isObject(header)) throw new WsError('invalid_frame', 'An event header must be a JSON object')
  if (typeof header.type !== 'string' || header.type === '')
    throw new WsError('invalid_frame', 'An event header needs a "type" string')
  const data = header.data ?? {}
  if (!isObject(data)) throw new WsError('invalid_frame', '"data" must be a JSON object')
  return {
    type: header.type,
    data,
    dataLength: length(header, 'data_length'),
    payloadLength: length(header, 'payload_length'),
  }
}

/**
 * Cuts a byte stream into events, whatever the pieces it comes in. A header that is not
 * JSON, or an event over the limits, throws a `WsError` (`invalid_frame`, or
 * `audio_too_large` for a payload) and leaves the parser failed: the stream has no way to
 * find the next event, so the connection ends. Nothing over the limits is buffered.
 */
export class WyomingFrameParser {
  readonly #maxHeader: number
  readonly #maxBody: number
  #chunks: Buffer[] = []
  #buffered = 0
  #failed: WsError | undefined
  /** The header read, while its data and payload are awaited. */
  #pending: ReturnType<typeof parseHeader> | undefined

  constructor(limits: WyomingLimits = {}) {
    this.#maxHeader = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES
    this.#maxBody = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  }

  /** Bytes held for an event not yet complete. */
  get buffered(): number {
    return this.#buffered
  }

  /** The next bytes of the stream: the events they complete (possibly none). */
  push(bytes: Uint8Array): WyomingEvent[] {
    if (this.#failed) throw this.#failed
    if (bytes.length > 0) {
      this.#chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      this.#buffered += bytes.length
    }
    const events: WyomingEvent[] = []
    try {
      for (let event = this.#next(); event; event = this.#next()) events.push(event)
    } catch (err) {
      this.#failed = err as WsError
      this.#chunks = []
      this.#buffered = 0
      throw err
    }
    return events
  }

  #next(): WyomingEvent | undefined {
    if (!this.#pending) {
      const all = this.#joined()
      const end = all.indexOf(NEWLINE)
      if (end < 0) {
        if (all.length > this.#maxHeader)
          throw new WsError('invalid_frame', `An event header is over ${this.#maxHeader} bytes`)
        return undefined
      }
      if (end > this.#maxHeader)
        throw new WsError('invalid_frame', `An event header is over ${this.#maxHeader} bytes`)
      const header = parseHeader(all.subarray(0, end))
      if (header.dataLength + header.payloadLength > this.#maxBody)
        throw new WsError(
          header.payloadLength > 0 ? 'audio_too_large' : 'invalid_frame',
          `An event of ${header.dataLength + header.payloadLength} bytes is over the ${this.#maxBody}-byte limit; send smaller chunks`,
        )
      this.#pending = header
      this.#consume(end + 1)
    }
    const h = this.#pending
    if (this.#buffered < h.dataLength + h.payloadLength) return undefined
    const all = this.#joined()
    let data = h.data
    if (h.dataLength > 0) {
      let extra: unknown
      try {
        extra = JSON.parse(all.subarray(0, h.dataLength).toString('utf8'))
      } catch {
        throw new WsError('invalid_frame', `The data of a "${h.type}" event is not JSON`)
      }
      if (!isObject(extra))
        throw new WsError('invalid_frame', `The data of a "${h.type}" event is not an object`)
      data = { ...data, ...extra }
    }
    const payload =
      h.payloadLength > 0
        ? new Uint8Array(all.subarray(h.dataLength, h.dataLength + h.payloadLength))
        : undefined
    this.#consume(h.dataLength + h.payloadLength)
    this.#pending = undefined
    return { type: h.type, data, ...(payload ? { payload } : {}) }
  }

  /** The buffered bytes as one buffer (joined once, then kept as one). */
  #joined(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)]
    return this.#chunks[0]!
  }

  #consume(n: number): void {
    const rest = this.#joined().subarray(n)
    this.#chunks = rest.length > 0 ? [rest] : []
    this.#buffered = rest.length
  }
}

/** One event as Wyoming's bytes: the header line, then its data as extra bytes, then the payload. */
export function encodeWyomingEvent(event: WyomingEvent): Buffer {
  const header: Record<string, unknown> = { type: event.type, version: WYOMING_VERSION }
  const hasData = Object.keys(event.data).length > 0
  const data = hasData ? Buffer.from(JSON.stringify(event.data), 'utf8') : undefined
  if (data) header.data_length = data.length
  if (event.payload && event.payload.length > 0) header.payload_length = event.payload.length
  const parts = [Buffer.from(`${JSON.stringify(header)}\n`, 'utf8')]
  if (data) parts.push(data)
  if (event.payload && event.payload.length > 0) parts.push(Buffer.from(event.payload))
  return Buffer.concat(parts)
}

/** Exactly one complete event's bytes (as {@link encodeWyomingEvent} or the parser cut them). */
export function decodeWyomingEvent(bytes: Uint8Array): WyomingEvent {
  const parser = new WyomingFrameParser({ maxHeaderBytes: bytes.length, maxBodyBytes: bytes.length })
  const events = parser.push(bytes)
  if (events.length !== 1 || parser.buffered > 0)
    throw new WsError('invalid_frame', 'Expected exactly one Wyoming event')
  return events[0]!
}
