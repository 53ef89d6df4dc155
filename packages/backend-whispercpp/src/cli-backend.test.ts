import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isWsError, WHISPER_SAMPLE_RATE } from '@ws/core'
import { backendConformance, loadSpeechFixtures, registerConformance } from '@ws/core/testing'
import { buildWhisperTools, whisperToolPath } from '@ws/whispercpp-addon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toResult, WhisperCliBackend } from './cli-backend.js'

// The real whisper-cli, built from the addon's vendored whisper.cpp (`ws-whispercpp tools`;
// the test command's setup builds it, this builds it too when run alone), on tiny.en and
// espeak-ng speech: the same conformance suite as the in-process backend.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const [kubernetes] = loadSpeechFixtures(FIXTURES, (f) => f.name === 'probe-kubernetes')

beforeAll(async () => {
  if (!whisperToolPath('whisper-cli')) await buildWhisperTools()
}, 900_000)

/** whisper-cli processes running now. */
function cliProcesses(): number {
  try {
    return Number(execFileSync('pgrep', ['-c', '-x', 'whisper-cli'], { encoding: 'utf8' }))
  } catch {
    return 0 // pgrep exits 1 when nothing matches
  }
}

registerConformance(
  backendConformance({
    createBackend: () => new WhisperCliBackend(),
    model: 'tiny.en',
    fixtures: english.map((f) => ({ name: f.name, audio: f.audio, text: f.text })),
    // Whisper's full 30 s window (the tool has no reduced one): 22–25 % like in process.
    maxWer: 0.25,
    promptProbe: { audio: kubernetes!.audio, prompt: 'Names: Kubernetes.', expect: 'Kubernete' },
    onMeasure: ({ wer, fixtures }) =>
      console.log(
        `whisper-cli tiny.en: corpus WER ${(wer * 100).toFixed(1)}%, ${Math.round(
          fixtures.reduce((a, f) => a + f.processingTimeMs, 0) / fixtures.length,
        )} ms a call`,
      ),
  }),
  { describe, it, beforeAll, afterAll },
  180_000,
)

describe('WhisperCliBackend', () => {
  it('kills the process on abort', async () => {
    const backend = new WhisperCliBackend({ threads: 1, beamSize: 5 })
    await backend.loadModel('tiny.en')
    const long = new Float32Array(WHISPER_SAMPLE_RATE * 25)
    let at = 0
    for (const f of english) {
      if (at + f.audio.length > long.length) break
      long.set(f.audio, at)
      at += f.audio.length + WHISPER_SAMPLE_RATE / 2
    }
    const controller = new AbortController()
    const call = backend.transcribe(long, WHISPER_SAMPLE_RATE, { signal: controller.signal })
    // Abort once the process is running.
    for (let i = 0; i < 200 && cliProcesses() === 0; i++) await new Promise((r) => setTimeout(r, 25))
    expect(cliProcesses()).toBeGreaterThan(0)
    controller.abort()
    const error = await call.catch((e: unknown) => e)
    expect(isWsError(error) && error.code).toBe('aborted')
    expect(cliProcesses()).toBe(0)
    await backend.close()
  }, 60_000)

  it('a missing executable is a typed error at loadModel', async () => {
    const backend = new WhisperCliBackend({ binary: 'no-such-whisper-cli' })
    const error = await backend.loadModel('tiny.en').catch((e: unknown) => e)
    expect(isWsError(error) && error.code).toBe('model_load_failed')
    expect((error as Error).message).toMatch(/ws-whispercpp tools/)
    await backend.close()
  })

  it('refuses bad options with invalid_config', () => {
    for (const bad of [
      { threads: 0 },
      { concurrency: 1.5 },
      { beamSize: 9 },
      { timeoutMs: -1 },
      { binary: '' },
    ]) {
      expect(() => new WhisperCliBackend(bad), JSON.stringify(bad)).toThrow(/WhisperCliBackend/)
    }
  })

  it('reads the JSON whisper-cli writes: segments clamped to the audio, tokens joined into words', () => {
    const json = {
      result: { language: 'en' },
      transcription: [
        {
          offsets: { from: 0, to: 30_000 },
          text: ' The birch canoe.',
          tokens: [
            { text: '[_BEG_]', p: 0.5, t_dtw: -1, offsets: { from: 0, to: 0 } },
            { text: ' The', p: 0.9, t_dtw: 12, offsets: { from: 100, to: 200 } },
            { text: ' bir', p: 0.8, t_dtw: 25, offsets: { from: 200, to: 300 } },
            { text: 'ch', p: 0.6, t_dtw: 30, offsets: { from: 300, to: 400 } },
            { text: ' canoe', p: 0.9, t_dtw: 50, offsets: { from: 400, to: 800 } },
            { text: '.', p: 0.9, t_dtw: 80, offsets: { from: 800, to: 900 } },
          ],
        },
        { offsets: { from: 2000, to: 2100 }, text: '  ' },
      ],
    }
    const { text, segments } = toResult(json, 1.5, true)
    expect(text).toBe('The birch canoe.')
    expect(segments).toHaveLength(1)
    expect(segments[0]!.end).toBe(1.5)
    // A DTW time is where its token ends: a word runs from the token before it to its last
    // spoken one (the first word: 70 ms a letter before its end, not before the segment).
    expect(segments[0]!.words!.map((w) => [w.text, w.start, w.end])).toEqual([
      ['The', 0, 0.12],
      ['birch', 0.12, 0.3],
      ['canoe.', 0.3, 0.5],
    ])
    expect(toResult(json, 1.5, false).segments[0]!.words).toBeUndefined()
  })
})
