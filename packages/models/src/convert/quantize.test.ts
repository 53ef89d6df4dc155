import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWsError } from '@ws/core'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveGgmlModel } from '../ggml-models.js'
import { checkGgmlFile } from './ggml-check.js'
import { halfToFloat } from './half.js'
import {
  dequantizeBlocks,
  parseQuantizedName,
  QUANTIZATIONS,
  quantizeBlocks,
  quantizeGgml,
} from './quantize.js'

const dir = mkdtempSync(join(tmpdir(), 'ws-quantize-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Weights as a linear layer holds them: small, of mixed sign, a few large. */
function weights(n: number, seed = 1): Float32Array {
  let s = seed
  const random = () => {
    s = (s * 16807) % 2147483647
    return s / 2147483647
  }
  return Float32Array.from({ length: n }, () => (random() - 0.5) * (random() < 0.05 ? 1 : 0.1))
}

describe('ggml block quantization', () => {
  it('rounds each value to its block step, as ggml reference quantizers do', () => {
    const x = weights(32 * 64)
    for (const q of QUANTIZATIONS) {
      const blocks = quantizeBlocks(x, q)
      expect(blocks.length).toBe(64 * { q8_0: 34, q5_1: 24, q4_0: 18 }[q])
      const y = dequantizeBlocks(blocks, q)
      for (let b = 0; b < 64; b++) {
        const step = Math.abs(halfToFloat(blocks.readUInt16LE((b * blocks.length) / 64)))
        for (let j = b * 32; j < (b + 1) * 32; j++) {
          // Half a step (q4_0: a whole one at the far end from its scale's sign, as ggml's
          // reference clamps there), and float16's rounding of the step and (q5_1) the minimum.
          const bound = step * (q === 'q4_0' ? 1 : 0.5) + 2e-3 * Math.abs(x[j]!) + 1e-4
          expect(Math.abs(y[j]! - x[j]!), `${q} block ${b}`).toBeLessThanOrEqual(bound)
        }
      }
    }
    // Values a block's steps hit exactly come back exactly.
    const ramp = Float32Array.from({ length: 32 }, (_, i) => i)
    expect([...dequantizeBlocks(quantizeBlocks(ramp, 'q5_1'), 'q5_1')]).toEqual([...ramp])
    const ints = Float32Array.from({ length: 32 }, (_, i) => i * 8 - 127)
    expect([...dequantizeBlocks(quantizeBlocks(ints, 'q8_0'), 'q8_0')]).toEqual([...ints])
  })

  it('names quantized models <base>-<type>', () => {
    expect(parseQuantizedName('base-q5_1')).toEqual({ base: 'base', quantization: 'q5_1' })
    expect(parseQuantizedName('tiny.en-q8_0')).toEqual({ base: 'tiny.en', quantization: 'q8_0' })
    expect(parseQuantizedName('base')).toBeUndefined()
    expect(parseQuantizedName('base-q3_k')).toBeUndefined()
  })
})

describe('quantizing a ggml model file', () => {
  it('quantizes tiny.en as whisper.cpp lays it out: 2-D weights in blocks, the rest kept', async () => {
    const f16 = await resolveGgmlModel('tiny.en', { offline: true })
    const out = join(dir, 'ggml-tiny.en-q5_1.bin')
    const result = await quantizeGgml(f16.file, out, 'q5_1')
    const info = await checkGgmlFile(out)
    // ggml's quantization version 2 × 1000 + GGML_FTYPE_MOSTLY_Q5_1 (9).
    expect(info.hparams.ftype).toBe(2009)
    expect({ ...info.hparams, ftype: 1 }).toEqual(f16.info.hparams)
    expect(info.tensors).toBe(f16.info.tensors)
    // Every linear layer and the token embedding (4 + 4 layers), not the convolutions.
    expect(result.quantized).toBe(4 * 6 + 4 * 10 + 1)
    // whisper.cpp's own ggml-tiny.en-q5_1.bin is 32.2 MB.
    expect(statSync(out).size / 1e6).toBeCloseTo(32.2, 0)
    // A quantized file is not quantized again.
    const again = await quantizeGgml(out, join(dir, 'x.bin'), 'q8_0').catch((e: unknown) => e)
    expect(isWsError(again, 'model_load_failed')).toBe(true)
  }, 120_000)

  it('resolves tiny.en-q8_0 by name: quantized once, then from the cache', async () => {
    const modelsDir = join(dir, 'models')
    const first = await resolveGgmlModel('tiny.en-q8_0', { offline: true, modelsDir })
    expect(first).toMatchObject({ name: 'tiny.en-q8_0', source: 'converted' })
    expect(first.info.hparams.ftype).toBe(2007)
    const second = await resolveGgmlModel('tiny.en-q8_0', { offline: true, modelsDir })
    expect(second).toMatchObject({ name: 'tiny.en-q8_0', source: 'cache', file: first.file })
    const unknown = await resolveGgmlModel('huge-q5_1', { offline: true, modelsDir }).catch((e: unknown) => e)
    expect(isWsError(unknown, 'model_not_found')).toBe(true)
  }, 300_000)
})
