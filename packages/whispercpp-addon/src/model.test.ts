import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { concatFloat32, wordErrorRate } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAddon, setWhisperLogger, WhisperAddonError, WhisperModel } from './index.js'

// The real addon (the workspace's prebuilt platform package), tiny.en, espeak-ng speech.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const joined = {
  audio: concatFloat32(english.slice(0, 4).map((f) => f.audio)),
  text: english
    .slice(0, 4)
    .map((f) => f.text)
    .join(' '),
}

let file: string
let model: WhisperModel

beforeAll(async () => {
  file = (await resolveGgmlModel('tiny.en')).file
  model = await WhisperModel.load(file, { alignmentHeads: 'tiny.en' })
}, 300_000)
afterAll(() => model?.free())

const text = (r: { segments: { text: string }[] }) => r.segments.map((s) => s.text).join(' ')

describe('binary', () => {
  it('loads the ggml CPU variant that matches this processor', async () => {
    const { info } = await loadAddon()
    const flags = readFileSync('/proc/cpuinfo', 'utf8')
    console.log(`binary: ${info.source} in ${info.dir}; features ${JSON.stringify(info.features)}`)
    expect(info.version).toMatch(/^1\.8\./)
    expect(info.devices.map((d) => d.name)).toContain('CPU')
    // A variant without the vector units this machine has would run several times slower.
    if (/\bavx2\b/.test(flags)) expect(info.features.AVX2).toBe('1')
    if (/\bavx512f\b/.test(flags)) expect(info.features.AVX512).toBe('1')
    if (!/\bavx2\b/.test(flags)) expect(info.features.AVX2).toBeUndefined()
  })
})

describe('WhisperModel', () => {
  it('transcribes speech', async () => {
    const refs: string[] = []
    const hyps: string[] = []
    for (const f of english) {
      const r = await model.transcribe(f.audio, { audioCtx: 0 })
      refs.push(f.text)
      hyps.push(text(r))
      expect(r.language).toBe('en')
    }
    const { wer } = wordErrorRate(refs.join(' '), hyps.join(' '))
    console.log(`tiny.en greedy, full window: corpus WER ${(wer * 100).toFixed(1)} %`)
    expect(wer).toBeLessThan(0.25)
  }, 120_000)

  it('gives DTW word times that hold at a reduced encoder window', async () => {
    const { audio } = joined
    const seconds = audio.length / 16_000
    const times = async (audioCtx: number) => {
      const r = await model.transcribe(audio, { audioCtx, tokens: true })
      return r.segments
        .flatMap((s) => s.tokens ?? [])
        .filter((t) => t.text.startsWith(' '))
        .map((t) => t.dtwMs / 1000)
    }
    const full = await times(0)
    const reduced = await times(Math.ceil(seconds * 50) + 64)
    console.log(`DTW word starts (s), full: ${full.map((t) => t.toFixed(2)).join(' ')}`)
    console.log(`DTW word starts (s), reduced: ${reduced.map((t) => t.toFixed(2)).join(' ')}`)
    expect(full.length).toBeGreaterThan(20)
    for (const ts of [full, reduced]) {
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!)
      expect(ts.at(-1)!).toBeLessThanOrEqual(seconds)
      // Words spread over the audio, not piled at its end (the reduced window's old failure).
      expect(ts[Math.floor(ts.length / 2)]!).toBeGreaterThan(seconds * 0.3)
      expect(ts[Math.floor(ts.length / 2)]!).toBeLessThan(seconds * 0.7)
    }
    // The fourth sentence starts after the first three: its first word is timed there.
    const starts = english.slice(0, 3).reduce((n, f) => n + f.audio.length / 16_000, 0)
    const near = (ts: number[]) => ts.some((t) => Math.abs(t - starts) < 0.5)
    expect(near(full)).toBe(true)
    expect(near(reduced)).toBe(true)
  }, 120_000)

  it('aborts a running transcription within a step, and takes the next request at once', async () => {
    const params = { audioCtx: 0, beamSize: 5, threads: 2, temperatureInc: 0 }
    let t = performance.now()
    await model.transcribe(joined.audio, params)
    const whole = performance.now() - t

    const controller = new AbortController()
    t = performance.now()
    const aborted = model.transcribe(joined.audio, { ...params, signal: controller.signal })
    setTimeout(() => controller.abort(), whole / 10)
    const error = await aborted.catch((e: unknown) => e)
    const abortedAfter = performance.now() - t
    expect(error).toBeInstanceOf(WhisperAddonError)
    expect((error as WhisperAddonError).code).toBe('aborted')

    t = performance.now()
    const next = await model.transcribe(english[0]!.audio, { audioCtx: 0 })
    const nextTook = performance.now() - t
    console.log(
      `unaborted ${whole.toFixed(0)} ms; aborted at ${(whole / 10).toFixed(0)} ms, settled at ${abortedAfter.toFixed(0)} ms; next call ${nextTook.toFixed(0)} ms`,
    )
    expect(abortedAfter).toBeLessThan(whole / 2)
    expect(text(next).toLowerCase()).toContain('smooth')
  }, 120_000)

  // The no-speech probability is read at the start-of-transcript token, as OpenAI's Whisper
  // reads it. whisper.cpp read the first row of the prompt's logits: with a prompt (a session's
  // previous text) or a multilingual model's language and task tokens that was another token's,
  // or a row not computed, and read about 0 (measured: 0.00 on every prompted decode).
  it('rates noise and silence as no speech with a prompt and on a multilingual model', async () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return (seed / 2 ** 32) * 2 - 1
    }
    const noise = Float32Array.from({ length: 8 * 16_000 }, () => random() * 0.02)
    const silence = new Float32Array(5 * 16_000)
    const prompt = 'The birch canoe slid on the smooth planks.'
    const rating = async (m: WhisperModel, audio: Float32Array, initialPrompt: string) => {
      const r = await m.transcribe(audio, {
        audioCtx: 0,
        initialPrompt,
        noSpeechThreshold: 1,
        language: 'en',
      })
      expect(r.segments.length).toBeGreaterThan(0)
      return Math.max(...r.segments.map((s) => s.noSpeechProb))
    }
    const base = await WhisperModel.load((await resolveGgmlModel('base')).file)
    try {
      for (const [name, m] of [
        ['tiny.en', model],
        ['base', base],
      ] as const) {
        for (const [what, audio] of [
          ['noise', noise],
          ['silence', silence],
        ] as const) {
          const [plain, prompted] = [await rating(m, audio, ''), await rating(m, audio, prompt)]
          console.log(
            `${name}, ${what}: no-speech ${plain.toFixed(2)} plain, ${prompted.toFixed(2)} prompted`,
          )
          // measured 0.78–0.95 on both models, prompted or not
          expect(plain).toBeGreaterThan(0.6)
          expect(prompted).toBeGreaterThan(0.6)
        }
        // Speech still rates as speech, prompted (measured 0.03–0.22).
        expect(await rating(m, english[1]!.audio, prompt)).toBeLessThan(0.4)
      }
    } finally {
      await base.free()
    }
  }, 120_000)

  it('runs calls concurrently, each on a state of its own, with the same results', async () => {
    const [a, b] = english
    const serial = [
      text(await model.transcribe(a!.audio, { threads: 1 })),
      text(await model.transcribe(b!.audio, { threads: 1 })),
    ]
    const both = await Promise.all([
      model.transcribe(a!.audio, { threads: 1 }),
      model.transcribe(b!.audio, { threads: 1 }),
    ])
    // A fresh state and a reused one can differ by a sub-word (measured: "slides" / "slids").
    for (const [i, r] of both.entries())
      expect(wordErrorRate(serial[i]!, text(r)).wer).toBeLessThanOrEqual(0.2)
    expect(model.info?.states).toBeGreaterThanOrEqual(2)
  }, 120_000)

  it('routes whisper.cpp log lines to a logger', async () => {
    const lines: string[] = []
    await setWhisperLogger((_level, line) => lines.push(line))
    const other = await WhisperModel.load(file)
    await other.free()
    await setWhisperLogger(undefined)
    await new Promise((r) => setTimeout(r, 50))
    expect(lines.some((l) => l.includes('whisper_model_load'))).toBe(true)
  }, 60_000)

  it('writes nothing to stderr without a logger', () => {
    const script = `
      const { WhisperModel } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)})
      const m = await WhisperModel.load(${JSON.stringify(file)}, { alignmentHeads: 'tiny.en' })
      await m.transcribe(new Float32Array(16000 * 2), { audioCtx: 200 })
      await m.free()
      console.log('done')`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.stdout.trim()).toBe('done')
    expect(r.stderr).toBe('')
  }, 60_000)

  // whisper.cpp decodes at most 8 candidates (WHISPER_MAX_DECODERS) and fails a call asking for
  // more with a bare return code: the widest beam decodes, a wider one is refused up front.
  it('decodes at beam 8 and refuses beam or best-of 9 before the engine fails', async () => {
    // Four sentences: 22.9 % WER at beam 1, 5 and 8 alike (measured).
    const r = await model.transcribe(joined.audio, { beamSize: 8 })
    expect(wordErrorRate(joined.text, text(r)).wer).toBeLessThanOrEqual(0.3)
    for (const params of [{ beamSize: 9 }, { bestOf: 9 }]) {
      await expect(model.transcribe(joined.audio, params)).rejects.toMatchObject({
        code: 'invalid_argument',
        message: expect.stringMatching(/from 1 to 8/),
      })
    }
  }, 60_000)

  it('gives typed errors for bad input, a bad file and a freed model', async () => {
    await expect(model.transcribe(new Float32Array(100), { beamSize: 0 })).rejects.toMatchObject({
      code: 'invalid_argument',
    })
    await expect(
      model.transcribe(new Float32Array(100), { language: 'not a language' }),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
    })
    await expect(model.transcribe([1, 2] as unknown as Float32Array)).rejects.toMatchObject({
      code: 'invalid_argument',
    })
    await expect(WhisperModel.load('/nonexistent/model.bin')).rejects.toMatchObject({ code: 'load_failed' })
    await expect(WhisperModel.load(file, { alignmentHeads: 'huge' as 'tiny' })).rejects.toMatchObject({
      code: 'invalid_argument',
    })
    const m = await WhisperModel.load(file)
    await Promise.all([m.free(), m.free()])
    await expect(m.transcribe(english[0]!.audio)).rejects.toMatchObject({ code: 'freed' })
  }, 60_000)
})
