import { WsError } from '@ws/core'

/**
 * The worker's frame format, both directions: two little-endian uint32 (JSON header length,
 * payload length), the UTF-8 JSON header, then the payload bytes.
 */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024
export const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024

export function encodeFrame(header: object, payload?: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(8)
  prefix.writeUInt32LE(json.length, 0)
  prefix.writeUInt32LE(payload?.byteLength ?? 0, 4)
  return payload && payload.byteLength > 0
    ? Buffer.concat([prefix, json, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)])
    : Buffer.concat([prefix, json])
}

export interface Frame {
  header: Record<string, unknown>
  payload: Buffer
}

/** Splits a byte stream into frames. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const frames: Frame[] = []
    for (;;) {
      if (this.#buffer.length < 8) break
      const headerLength = this.#buffer.readUInt32LE(0)
      const payloadLength = this.#buffer.readUInt32LE(4)
      if (headerLength > MAX_HEADER_BYTES || payloadLength > MAX_PAYLOAD_BYTES) {
        throw new WsError(
          'backend_failed',
          `Corrupt frame from the worker (${headerLength} + ${payloadLength} bytes)`,
        )
      }
      const total = 8 + headerLength + payloadLength
      if (this.#buffer.length < total) break
      let header: Record<string, unknown>
      try {
        header = JSON.parse(this.#buffer.subarray(8, 8 + headerLength).toString('utf8'))
      } catch (err) {
        throw new WsError('backend_failed', 'Unreadable frame header from the worker', { cause: err })
      }
      frames.push({ header, payload: this.#buffer.subarray(8 + headerLength, total) })
      this.#buffer = this.#buffer.subarray(total)
    }
    return frames
  }
}
