import { open, stat } from 'node:fs/promises'
import { WsError } from '@ws/core'
import type { WhisperHparams } from './ggml.js'

const GGML_MAGIC = 0x67676d6c
// ggml type → [bytes per block, elements per block] for the types whisper.cpp files use.
const TYPE_SIZES: Record<number, [number, number]> = {
  0: [4, 1], // f32
  1: [2, 1], // f16
  2: [18, 32], // q4_0
  3: [20, 32], // q4_1
  6: [22, 32], // q5_0
  7: [24, 32], // q5_1
  8: [34, 32], // q8_0
}

export interface GgmlFileInfo {
  hparams: WhisperHparams & { ftype: number }
  tokens: number
  tensors: number
  bytes: number
}

/**
 * Reads a whisper.cpp ggml file's headers and checks that every tensor's data is present and
 * the file ends where the last tensor does, so a missing, foreign or truncated file is a
 * `model_not_found` / `model_load_failed` error here instead of a failure inside the addon.
 */
export async function checkGgmlFile(path: string): Promise<GgmlFileInfo> {
  const size = await stat(path).then(
    (s) => s.size,
    () => {
      throw new WsError('model_not_found', `No model file at ${path}`)
    },
  )
  const fh = await open(path, 'r')
  try {
    let pos = 0
    // Headers are read through a 64 kB window; tensor data is skipped, never read.
    let window = Buffer.alloc(0)
    let windowStart = 0
    const need = (n: number, what: string) => {
      if (pos + n > size)
        throw new WsError('model_load_failed', `${path} is truncated (in ${what}, at byte ${pos} of ${size})`)
    }
    const refill = async (n: number) => {
      window = Buffer.alloc(Math.min(size - pos, Math.max(1 << 16, n)))
      await fh.read(window, 0, window.length, pos)
      windowStart = pos
    }
    // Reads n int32 at pos; awaits only when the window must move (the vocabulary alone is
    // 100 000 fields: one await each made this take seconds).
    const ints = async (n: number, what: string) => {
      need(4 * n, what)
      if (pos < windowStart || pos + 4 * n > windowStart + window.length) await refill(4 * n)
      const at = pos - windowStart
      pos += 4 * n
      return Array.from({ length: n }, (_, i) => window.readInt32LE(at + 4 * i))
    }
    const int = (what: string): number | Promise<number> => {
      need(4, what)
      if (pos >= windowStart && pos + 4 <= windowStart + window.length) {
        const v = window.readInt32LE(pos - windowStart)
        pos += 4
        return v
      }
      return ints(1, what).then((v) => v[0]!)
    }
    const [magic] = await ints(1, 'the header')
    if (magic !== GGML_MAGIC)
      throw new WsError('model_load_failed', `${path} is not a whisper.cpp ggml model (bad magic)`)
    const h = await ints(11, 'the hyper-parameters')
    const hparams = {
      nVocab: h[0]!,
      nAudioCtx: h[1]!,
      nAudioState: h[2]!,
      nAudioHead: h[3]!,
      nAudioLayer: h[4]!,
      nTextCtx: h[5]!,
      nTextState: h[6]!,
      nTextHead: h[7]!,
      nTextLayer: h[8]!,
      nMels: h[9]!,
      ftype: h[10]!,
    }
    const [melRows, melCols] = await ints(2, 'the mel filters')
    need(4 * melRows! * melCols!, 'the mel filters')
    pos += 4 * melRows! * melCols!
    const [tokens] = await ints(1, 'the vocabulary')
    for (let i = 0; i < tokens!; i++) {
      const read = int('the vocabulary')
      const len = typeof read === 'number' ? read : await read
      need(len, 'the vocabulary')
      pos += len
    }
    let tensors = 0
    while (pos < size) {
      const [nDims, nameLength, type] = await ints(3, `tensor ${tensors}`)
      const dims = await ints(nDims!, `tensor ${tensors}`)
      need(nameLength!, `tensor ${tensors}`)
      pos += nameLength!
      const sizes = TYPE_SIZES[type!]
      if (!sizes)
        throw new WsError('model_load_failed', `${path}: tensor ${tensors} has unknown type ${type}`)
      const elements = dims.reduce((a, b) => a * b, 1)
      const bytes = (elements / sizes[1]) * sizes[0]
      need(bytes, `the data of tensor ${tensors}`)
      pos += bytes
      tensors++
    }
    if (tensors === 0) throw new WsError('model_load_failed', `${path} holds no tensors`)
    return { hparams, tokens: tokens!, tensors, bytes: size }
  } finally {
    await fh.close()
  }
}
