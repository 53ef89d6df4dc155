import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ensurePythonEnv } from '@ws/backend-faster'
import { convertCt2ToGgml, progressPrinter, resolveCt2Model } from '@ws/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The ggml tiny.en converted from CTranslate2 computes what the CTranslate2 original does:
// its mel filterbank is faster-whisper's, and the same log-mel features go through whisper.cpp (the addon's sources and ggml
// libraries, with a probe that reads the encoder output) and through CTranslate2 in float32.
// The encoder outputs and the decoder's next-token log-probabilities are compared. As a scale,
// CTranslate2's own int8 mode (faster-whisper's default) is compared with its float32 too.
//
// Measured on this project's machine: encoder relative error 0.23–0.28 % (CTranslate2 int8:
// 5.8–6.4 %), every greedy step picks the same token, top-5 log-probabilities within 0.04.
// A wrong tensor shows up far above these bounds: with the encoder's query and key swapped in
// the converter, the encoder is 99 % off and 1 step in 12 agrees.
const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLIPS = [
  'fixtures/speech/harvard-01.wav',
  'fixtures/wer/harvard-03-07.wav',
  'fixtures/wer/harvard-05-05.wav',
]

interface ClipReport {
  wav: string
  text: string
  encoder_rel_error: number
  encoder_rel_error_ct2_int8: number
  steps: number
  steps_same_argmax: number
  max_top5_logprob_diff: number
}

/** The whisper.cpp sources the addon is built from, and the directory of its built ggml libraries. */
async function whisperCpp(): Promise<{ src: string; bin: string }> {
  const { loadAddon } = await import('@ws/whispercpp-addon')
  const { info } = await loadAddon()
  return { src: join(ROOT, 'packages/whispercpp-addon/vendor/whisper.cpp'), bin: info.dir }
}

/**
 * Compiles the probe with whisper.cpp's source (to reach the encoder output) against the
 * addon's ggml libraries; ggml picks its CPU variant from the same directory at run time.
 */
async function buildProbe(dir: string): Promise<{ probe: string; bin: string }> {
  const { src, bin } = await whisperCpp()
  const include = ['-I', join(src, 'include'), '-I', join(src, 'ggml/include'), '-I', join(src, 'src')]
  const probe = join(dir, 'probe')
  await run('g++', [
    '-O2',
    '-std=c++17',
    '-DGGML_BACKEND_DL',
    '-DGGML_SHARED',
    '-DWHISPER_VERSION="numerics-probe"',
    ...include,
    join(ROOT, 'tests/numerics/probe.cpp'),
    '-L',
    bin,
    '-lggml',
    '-lggml-base',
    `-Wl,-rpath,${bin}`,
    '-lpthread',
    '-o',
    probe,
  ])
  return { probe, bin }
}

describe('converted ggml model against CTranslate2, same features', () => {
  let work: string
  let clips: ClipReport[]
  let filters: { shape: number[]; maxDiff: number }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ws-numerics-'))
    const onProgress = progressPrinter()
    const [{ probe, bin }, python, ct2] = await Promise.all([
      buildProbe(work),
      ensurePythonEnv({ onProgress }).then((e) => e.python),
      resolveCt2Model('tiny.en', { onProgress }),
    ])
    // Converted here, so the converter is what is checked, whatever the model cache holds.
    const ggml = await convertCt2ToGgml(ct2.dir, join(work, 'ggml-tiny.en.bin'))
    const { stdout } = await run(
      python,
      [
        join(ROOT, 'tests/numerics/compare.py'),
        probe,
        ggml.file,
        ct2.dir,
        work,
        ...CLIPS.map((c) => join(ROOT, c)),
      ],
      { maxBuffer: 1 << 24, env: { ...process.env, WS_GGML_BACKEND_DIR: bin } },
    )
    const report = JSON.parse(stdout) as {
      clips: ClipReport[]
      mel_filters_shape: number[]
      mel_filters_max_diff: number
    }
    clips = report.clips
    filters = { shape: report.mel_filters_shape, maxDiff: report.mel_filters_max_diff }
    console.log(`mel filters ${filters.shape.join(' × ')}, largest difference ${filters.maxDiff}`)
    for (const c of clips) {
      console.log(
        `${c.wav}: encoder ${(c.encoder_rel_error * 100).toFixed(2)} % off (CTranslate2 int8: ${(c.encoder_rel_error_ct2_int8 * 100).toFixed(1)} %), ` +
          `${c.steps_same_argmax}/${c.steps} steps agree, top-5 log-prob within ${c.max_top5_logprob_diff.toFixed(3)}; "${c.text.trim()}"`,
      )
    }
  }, 600_000)

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true })
  })

  it("the mel filterbank is faster-whisper's", () => {
    expect(filters.shape).toEqual([80, 201])
    expect(filters.maxDiff).toBeLessThan(1e-6)
  })

  it('the encoder output matches, far closer than CTranslate2 int8 is to its own float32', () => {
    expect(clips).toHaveLength(CLIPS.length)
    for (const c of clips) {
      expect(c.encoder_rel_error).toBeLessThan(0.01)
      expect(c.encoder_rel_error).toBeLessThan(c.encoder_rel_error_ct2_int8 / 5)
    }
  })

  it('the decoder predicts the same tokens with the same log-probabilities', () => {
    for (const c of clips) {
      expect(c.steps).toBeGreaterThan(5)
      expect(c.steps_same_argmax).toBe(c.steps)
      expect(c.max_top5_logprob_diff).toBeLessThan(0.1)
    }
  })
})
