import { inflateRawSync } from 'node:zlib'
import { WsError } from '@ws/core'

export interface ZipEntry {
  name: string
  /** 0 = stored, 8 = deflated. */
  method: number
  compressedSize: number
  size: number
  /** Offset of the entry's local header in the archive. */
  headerOffset: number
}

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

function fail(what: string, message: string): never {
  throw new WsError('model_load_failed', `${what}: ${message}`)
}

/**
 * The entries of a zip archive held in memory, read from its central directory (as torch's
 * zip serialization and Python wheels write it: no zip64, stored or deflated entries).
 * `what` names the archive in errors (`model_load_failed`).
 */
export function zipEntries(zip: Uint8Array, what: string): Map<string, ZipEntry> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  let end = -1
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i
      break
    }
  }
  if (end < 0) fail(what, 'not a zip archive (no end of central directory)')
  const count = view.getUint16(end + 10, true)
  let pos = view.getUint32(end + 16, true)
  if (count === 0xffff || pos === 0xffffffff) fail(what, 'zip64 archives are not supported')
  const entries = new Map<string, ZipEntry>()
  const decoder = new TextDecoder()
  for (let i = 0; i < count; i++) {
    if (pos + 46 > zip.length || view.getUint32(pos, true) !== CENTRAL)
      fail(what, `corrupt central directory at entry ${i}`)
    const nameLength = view.getUint16(pos + 28, true)
    const extraLength = view.getUint16(pos + 30, true)
    const commentLength = view.getUint16(pos + 32, true)
    const name = decoder.decode(zip.subarray(pos + 46, pos + 46 + nameLength))
    entries.set(name, {
      name,
      method: view.getUint16(pos + 10, true),
      compressedSize: view.getUint32(pos + 20, true),
      size: view.getUint32(pos + 24, true),
      headerOffset: view.getUint32(pos + 42, true),
    })
    pos += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

/** The uncompressed bytes of an entry (a view into `zip` when it is stored). */
export function zipRead(zip: Uint8Array, entry: ZipEntry, what: string): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  const h = entry.headerOffset
  if (h + 30 > zip.length || view.getUint32(h, true) !== LOCAL)
    fail(what, `corrupt local header for ${entry.name}`)
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true)
  const raw = zip.subarray(start, start + entry.compressedSize)
  if (raw.length !== entry.compressedSize) fail(what, `${entry.name} is truncated`)
  if (entry.method === 0) return raw
  if (entry.method === 8) {
    const out = inflateRawSync(raw)
    if (out.length !== entry.size) fail(what, `${entry.name} inflates to the wrong size`)
    return out
  }
  return fail(what, `${entry.name} uses compression method ${entry.method}`)
}
