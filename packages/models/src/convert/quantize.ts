import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { WsError } from '@ws/core'
import type { ProgressListener } from '../progress.js'
import { floatToHalf, halfToFloat } from './half.js'

/** The ggml quantizations whisper.cpp reads, as `ws-models` names them (`base-q5_1`). */
export const QUANTIZATIONS = ['q8_0', 'q5_1', 'q4_0'] as const
export type Quantization = (typeof QUANTIZATIONS)[number]

/** ggml's tensor type, the file's `ftype`, and a block's values and bytes, per quantization. */
const TYPES: Record<Quantization, { ggmlType: number; ftype: number; blockBytes: number }> = {
  q4_0: { ggmlType: 2, ftype: 2, blockBytes: 18 },
  q5_1: { ggmlType: 7, ftype: 9, blockBytes: 24 },
  q8_0: { ggmlType: 8, ftype: 7, blockBytes: 34 },
}
const BLOCK = 32
const GGML_MAGIC = 0x67676d6c
/** ggml's quantization format version, stored in the file's ftype (`ftype + 1000 × version`). */
const QNT_VERSION = 2
const QNT_VERSION_FACTOR = 1000
const GGML_TYPE_F32 = 0
const GGML_TYPE_F16 = 1
/** Tensors whisper.cpp's own quantizer leaves as they are (besides everything not 2-D). */
const KEEP = new Set([
  'encoder.conv1.bias',
  'encoder.conv2.bias',
  'encoder.positional_embedding',
  'decoder.positional_embedding',
])

/** The name a quantized model goes by: `base-q5_1` → `{ base: 'base', quantization: 'q5_1' }`. */
export function parseQuantizedName(name: string): { base: string; quantization: Quantization } | undefined {
  const m = /^(.+)-(q8_0|q5_1|q4_0)$/.exec(name)
  return m ? { base: m[1]!, quantization: m[2] as Quantization } : undefined
}

export interface QuantizeResult {
  file: string
  /** Tensors quantized, and tensors copied as they were. */
  quantized: number
  kept: number
  bytes: number
}

/**
 * Quantizes a float16 ggml Whisper file as whisper.cpp's `quantize` tool does (its
 * `ggml_common_quantize_0`): every 2-D weight (linear layers, the token embedding) becomes
 * blocks of 32 values in `quantization`, with ggml's reference rounding; the convolutions, the
 * biases, the norms and the positional embeddings stay as they are. The header and the
 * vocabulary are copied; the file's `ftype` says the quantization. The output appears
 * atomically.
 */
export async function quantizeGgml(
  inFile: string,
  outFile: string,
  quantization: Quantization,
  options: { onProgress?: ProgressListener; signal?: AbortSignal } = {},
): Promise<QuantizeResult> {
  const type = TYPES[quantization]
  if (!type) throw new WsError('invalid_config', `Unknown quantization "${quantization}"`)
  const src = await readFile(inFile)
  const bad = (why: string): never => {
    throw new WsError('model_load_failed', `${inFile} is not a float16 ggml Whisper file: ${why}`)
  }
  if (src.length < 48 || src.readUInt32LE(0) !== GGML_MAGIC) bad('no ggml magic')
  // The magic, then 11 int32 of hyper-parameters, the last the ftype.
  const ftype = src.readInt32LE(44) % QNT_VERSION_FACTOR
  if (ftype !== GGML_TYPE_F16 && ftype !== GGML_TYPE_F32) bad(`its ftype is ${ftype}`)
  let at = 48
  const nMel = src.readInt32LE(at)
  const nFft = src.readInt32LE(at + 4)
  at += 8 + 4 * nMel * nFft
  const nVocab = src.readInt32LE(at)
  at += 4
  for (let i = 0; i < nVocab; i++) at += 4 + src.readInt32LE(at)
  const header = Buffer.from(src.subarray(0, at))
  header.writeInt32LE(type.ftype + QNT_VERSION * QNT_VERSION_FACTOR, 44)
  const parts: Buffer[] = [header]
  let quantized = 0
  let kept = 0
  while (at < src.length) {
    if (options.signal?.aborted) throw new WsError('aborted', 'Quantization aborted')
    const nDims = src.readInt32LE(at)
    const nameLength = src.readInt32LE(at + 4)
    const ttype = src.readInt32LE(at + 8)
    const ne = Array.from({ length: nDims }, (_, i) => src.readInt32LE(at + 12 + 4 * i))
    const headEnd = at + 12 + 4 * nDims
    const name = src.toString('utf8', headEnd, headEnd + nameLength)
    const count = ne.reduce((a, b) => a * b, 1)
    if (ttype !== GGML_TYPE_F16 && ttype !== GGML_TYPE_F32) bad(`tensor ${name} has type ${ttype}`)
    const dataStart = headEnd + nameLength
    const dataEnd = dataStart + count * (ttype === GGML_TYPE_F16 ? 2 : 4)
    if (dataEnd > src.length) bad(`tensor ${name} is truncated`)
    const data = src.subarray(dataStart, dataEnd)
    if (nDims === 2 && !KEEP.has(name) && ne[0]! % BLOCK === 0) {
      const head = Buffer.from(src.subarray(at, dataStart))
      head.writeInt32LE(type.ggmlType, 8)
      const values = new Float32Array(count)
      for (let i = 0; i < count; i++)
        values[i] = ttype === GGML_TYPE_F16 ? halfToFloat(data.readUInt16LE(2 * i)) : data.readFloatLE(4 * i)
      parts.push(head, quantizeBlocks(values, quantization))
      quantized++
    } else {
      parts.push(src.subarray(at, dataEnd))
      kept++
    }
    at = dataEnd
  }
  const out = Buffer.concat(parts)
  const tmp = `${outFile}.tmp-${process.pid}`
  try {
    await writeFile(tmp, out)
    await rename(tmp, outFile)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  options.onProgress?.({
    stage: 'done',
    message: `Wrote ${outFile} (${quantization}, ${(out.length / 1_048_576).toFixed(1)} MB, ${quantized} tensors quantized)`,
  })
  return { file: outFile, quantized, kept, bytes: out.length }
}

/**
 * Values (a multiple of 32) as ggml blocks, by ggml's reference quantizers
 * (`quantize_row_q8_0_ref`, `quantize_row_q5_1_ref`, `quantize_row_q4_0_ref`).
 */
export function quantizeBlocks(x: Float32Array, quantization: Quantization): Buffer {
  const { blockBytes } = TYPES[quantization]
  const blocks = x.length / BLOCK
  const out = Buffer.alloc(blocks * blockBytes)
  for (let b = 0; b < blocks; b++) {
    const v = x.subarray(b * BLOCK, (b + 1) * BLOCK)
    const o = b * blockBytes
    if (quantization === 'q8_0') {
      let amax = 0
      for (const y of v) amax = Math.max(amax, Math.abs(y))
      const d = amax / 127
      const id = d ? 1 / d : 0
      out.writeUInt16LE(floatToHalf(d), o)
      for (let j = 0; j < BLOCK; j++) {
        const q = v[j]! * id
        out.writeInt8(Math.sign(q) * Math.round(Math.abs(q)), o + 2 + j) // C's roundf
      }
    } else if (quantization === 'q5_1') {
      let min = Number.POSITIVE_INFINITY
      let max = Number.NEGATIVE_INFINITY
      for (const y of v) {
        min = Math.min(min, y)
        max = Math.max(max, y)
      }
      const d = (max - min) / 31
      const id = d ? 1 / d : 0
      out.writeUInt16LE(floatToHalf(d), o)
      out.writeUInt16LE(floatToHalf(min), o + 2)
      let qh = 0
      for (let j = 0; j < BLOCK / 2; j++) {
        const x0 = Math.trunc((v[j]! - min) * id + 0.5) & 0xff
        const x1 = Math.trunc((v[j + 16]! - min) * id + 0.5) & 0xff
        out[o + 8 + j] = (x0 & 0x0f) | ((x1 & 0x0f) << 4)
        qh |= ((x0 & 0x10) >> 4) << j
        qh |= ((x1 & 0x10) >> 4) << (j + 16)
      }
      out.writeUInt32LE(qh >>> 0, o + 4)
    } else {
      // q4_0: the scale from the value of largest magnitude, with its sign.
      let amax = 0
      let max = 0
      for (const y of v) {
        if (Math.abs(y) > amax) {
          amax = Math.abs(y)
          max = y
        }
      }
      const d = max / -8
      const id = d ? 1 / d : 0
      out.writeUInt16LE(floatToHalf(d), o)
      for (let j = 0; j < BLOCK / 2; j++) {
        const x0 = Math.min(15, Math.trunc(v[j]! * id + 8.5))
        const x1 = Math.min(15, Math.trunc(v[j + 16]! * id + 8.5))
        out[o + 2 + j] = x0 | (x1 << 4)
      }
    }
  }
  return out
}

/** ggml blocks back as values: what whisper.cpp computes with (for checks and tests). */
export function dequantizeBlocks(data: Buffer, quantization: Quantization): Float32Array {
  const { blockBytes } = TYPES[quantization]
  const blocks = data.length / blockBytes
  const x = new Float32Array(blocks * BLOCK)
  for (let b = 0; b < blocks; b++) {
    const o = b * blockBytes
    const d = halfToFloat(data.readUInt16LE(o))
    const y = x.subarray(b * BLOCK)
    if (quantization === 'q8_0') {
      for (let j = 0; j < BLOCK; j++) y[j] = data.readInt8(o + 2 + j) * d
    } else if (quantization === 'q5_1') {
      const m = halfToFloat(data.readUInt16LE(o + 2))
      const qh = data.readUInt32LE(o + 4)
      for (let j = 0; j < BLOCK / 2; j++) {
        const q = data[o + 8 + j]!
        y[j] = ((q & 0x0f) | (((qh >>> j) & 1) << 4)) * d + m
        y[j + 16] = ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m
      }
    } else {
      for (let j = 0; j < BLOCK / 2; j++) {
        const q = data[o + 2 + j]!
        y[j] = ((q & 0x0f) - 8) * d
        y[j + 16] = ((q >> 4) - 8) * d
      }
    }
  }
  return x
}
