import { copyFileSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWsError } from '@ws/core'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveCt2Model } from '../provision.js'
import { convertCt2ToGgml } from './ggml.js'
import { checkGgmlFile } from './ggml-check.js'
import { floatToHalf, halfToFloat } from './half.js'
import { whisperMelFilters } from './mel.js'

const dir = mkdtempSync(join(tmpdir(), 'ws-convert-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('CTranslate2 → ggml', () => {
  it('converts tiny.en into the layout whisper.cpp reads', async () => {
    const ct2 = await resolveCt2Model('tiny.en')
    const out = join(dir, 'ggml-tiny.en.bin')
    const result = await convertCt2ToGgml(ct2.dir, out)
    expect(result.hparams).toEqual({
      nVocab: 51864,
      nAudioCtx: 1500,
      nAudioState: 384,
      nAudioHead: 6,
      nAudioLayer: 4,
      nTextCtx: 448,
      nTextState: 384,
      nTextHead: 6,
      nTextLayer: 4,
      nMels: 80,
    })
    // whisper.cpp's tiny model: 4 + 4 × 15 + 2 encoder, 2 + 4 × 24 + 2 decoder tensors.
    expect(result.tensors).toBe(167)
    const info = await checkGgmlFile(out)
    expect(info).toMatchObject({ tokens: 50257, tensors: 167, bytes: statSync(out).size })
    expect(info.hparams.ftype).toBe(1)

    const truncated = join(dir, 'truncated.bin')
    copyFileSync(out, truncated)
    truncateSync(truncated, statSync(out).size - 1)
    const err = await checkGgmlFile(truncated).catch((e: unknown) => e)
    expect(isWsError(err, 'model_load_failed')).toBe(true)
    expect((err as Error).message).toContain('truncated')
  }, 120_000)

  it('refuses a directory without a Whisper model.bin with a typed error', async () => {
    const err = await convertCt2ToGgml(dir, join(dir, 'x.bin')).catch((e: unknown) => e)
    expect(isWsError(err, 'model_not_found')).toBe(true)
    expect((err as Error).message).toContain('model.bin')
  })

  it('rounds floats to half precision like numpy', () => {
    for (const v of [0, 1, -2.5, 65504, 6.103515625e-5, 2 ** -24, 0.1, 1 / 3]) {
      expect(halfToFloat(floatToHalf(v))).toBeCloseTo(v, 3)
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00) // ties to even
    expect(floatToHalf(70000)).toBe(0x7c00) // overflow to infinity
  })

  it('builds Slaney mel filters of the right shape and area', () => {
    const f = whisperMelFilters(80)
    expect(f.length).toBe(80 * 201)
    // Slaney normalisation: the bank's largest weight, as faster-whisper's filters have it
    // (compared element by element once: identical to float32 precision).
    expect(f.reduce((a, b) => Math.max(a, b), 0)).toBeCloseTo(0.025880685, 7)
    expect(whisperMelFilters(128).length).toBe(128 * 201)
  })
})
