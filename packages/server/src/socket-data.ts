import type { RawData } from 'ws'

/** A close frame's reason is at most 123 bytes. */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason)
  return bytes.length <= 123
    ? reason
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '')
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}

/**
 * What a {@link Connection} needs of its client's socket: a WebSocket (`ws`), or a
 * {@link WyomingSocket} over TCP that cuts the stream into one message per event.
 */
export interface ClientSocket {
  readonly readyState: number
  readonly OPEN: number
  /** Bytes queued to the client, not yet written. */
  readonly bufferedAmount: number
  send(data: string): void
  close(code?: number, reason?: string): void
  terminate(): void
  pause(): void
  resume(): void
  on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this
  on(event: 'close', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
}
