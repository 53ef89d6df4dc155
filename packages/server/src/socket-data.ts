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
