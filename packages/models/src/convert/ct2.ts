import { open } from 'node:fs/promises'
import { WsError } from '@ws/core'

/** CTranslate2's data types, in the order of its DataType enum. */
export const CT2_DTYPES = ['float32', 'int8', 'int16', 'int32', 'float16', 'bfloat16'] as const
export type Ct2Dtype = (typeof CT2_DTYPES)[number]
const DTYPE_BYTES: Record<Ct2Dtype, number> = {
  float32: 4,
  int8: 1,
  int16: 2,
  int32: 4,
  float16: 2,
  bfloat16: 2,
}

export interface Ct2Variable {
  name: string
  dims: number[]
  dtype: Ct2Dtype
  /** Byte offset of the data in model.bin. */
  offset: number
  byteLength: number
}

export interface Ct2Index {
  binaryVersion: number
  specName: string
  specRevision: number
  variables: Map<string, Ct2Variable>
  /** alias name → variable name */
  aliases: Map<string, string>
}

/**
 * Reads the index of a CTranslate2 `model.bin` (format of ctranslate2's model_spec._serialize):
 * u32 binary version, the spec name, u32 revision, u32 variable count, then for each variable
 * its name, u8 rank, u32 dims, u8 dtype, u32 byte count and data; then u32 alias count and
 * pairs of names. Strings are u16 length (with the final NUL) and bytes. Data is not read.
 */
export async function readCt2Index(path: string): Promise<Ct2Index> {
  const fh = await open(path, 'r')
  try {
    const size = (await fh.stat()).size
    let pos = 0
    const bytes = async (n: number) => {
      if (pos + n > size)
        throw new WsError(
          'model_load_failed',
          `${path} is truncated (needed ${n} bytes at ${pos} of ${size})`,
        )
      const buf = Buffer.alloc(n)
      await fh.read(buf, 0, n, pos)
      pos += n
      return buf
    }
    const u8 = async () => (await bytes(1)).readUInt8(0)
    const u16 = async () => (await bytes(2)).readUInt16LE(0)
    const u32 = async () => (await bytes(4)).readUInt32LE(0)
    const str = async () => {
      const n = await u16()
      const b = await bytes(n)
      return b.subarray(0, b[n - 1] === 0 ? n - 1 : n).toString('utf8')
    }
    const binaryVersion = await u32()
    if (binaryVersion < 3 || binaryVersion > 6) {
      throw new WsError(
        'model_load_failed',
        `${path}: unsupported CTranslate2 binary version ${binaryVersion} (3 to 6 are read)`,
      )
    }
    const specName = await str()
    const specRevision = await u32()
    const count = await u32()
    const variables = new Map<string, Ct2Variable>()
    for (let i = 0; i < count; i++) {
      const name = await str()
      const rank = await u8()
      const dims: number[] = []
      for (let r = 0; r < rank; r++) dims.push(await u32())
      const dtypeId = await u8()
      const dtype = CT2_DTYPES[dtypeId]
      if (!dtype)
        throw new WsError('model_load_failed', `${path}: variable ${name} has unknown dtype ${dtypeId}`)
      const byteLength = await u32()
      const expected = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]
      if (byteLength !== expected) {
        throw new WsError(
          'model_load_failed',
          `${path}: variable ${name} has ${byteLength} bytes, expected ${expected}`,
        )
      }
      variables.set(name, { name, dims, dtype, offset: pos, byteLength })
      pos += byteLength
      if (pos > size) throw new WsError('model_load_failed', `${path} is truncated inside ${name}`)
    }
    const aliases = new Map<string, string>()
    if (pos < size) {
      const n = await u32()
      for (let i = 0; i < n; i++) aliases.set(await str(), await str())
    }
    return { binaryVersion, specName, specRevision, variables, aliases }
  } finally {
    await fh.close()
  }
}
