import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isWsError, WHISPER_SAMPLE_RATE } from '@ws/core'
import { backendConformance, freePort, loadSpeechFixtures, registerConformance } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { buildWhisperTools, whisperToolPath } from '@ws/whispercpp-addon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenAiBackend } from './backend.js'
import { fromWhisperServer } from './whisper-server.js'

// whisper.cpp's own HTTP server, built from the addon's vendored sources, on loopback with
// tiny.en: the backend's `whisper-server` mode (its /inference form) through the same
// conformance suite as every backend.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const [kubernetes] = loadSpeechFixtures(FIXTURES, (f) => f.name === 'probe-kubernetes')
const [german] = loadSpeechFixtures(FIXTURES, (f) => f.name === 'german-01')

const children: ChildProcess[] = []

/** Starts whisper-server on `model` on a free loopback port; resolves with its URL once healthy. */
async function startWhisperServer(model: string): Promise<string> {
  if (!whisperToolPath('whisper-server')) await buildWhisperTools()
  const { file } = await resolveGgmlModel(model)
  const port = await freePort()
  const child = spawn(
    whisperToolPath('whisper-server')!,
    ['-m', file, '--host', '127.0.0.1', '--port', String(port), '-t', '2'],
    { stdio: 'ignore' },
  )
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return url
    if (i > 300 || child.exitCode !== null) throw new Error('whisper-server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

let base = ''

beforeAll(async () => {
  base = await startWhisperServer('tiny.en')
}, 900_000)

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

registerConformance(
  backendConformance({
    createBackend: () => new OpenAiBackend({ baseUrl: base, api: 'whisper-server', servedModel: 'tiny.en' }),
    model: 'tiny.en',
    fixtures: english.map((f) => ({ name: f.name, audio: f.audio, text: f.text })),
    maxWer: 0.25,
    promptProbe: { audio: kubernetes!.audio, prompt: 'Names: Kubernetes.', expect: 'Kubernete' },
    onMeasure: ({ wer, fixtures }) =>
      console.log(
        `whisper-server tiny.en: corpus WER ${(wer * 100).toFixed(1)}%, ${Math.round(
          fixtures.reduce((a, f) => a + f.processingTimeMs, 0) / fixtures.length,
        )} ms a call`,
      ),
  }),
  { describe, it, beforeAll, afterAll },
  180_000,
)

describe('OpenAiBackend against whisper-server', () => {
  it('a server that is not there is model_load_failed; a stopped server fails retryably', async () => {
    const gone = new OpenAiBackend({ baseUrl: `http://127.0.0.1:${await freePort()}`, api: 'whisper-server' })
    const error = await gone.loadModel('tiny.en').catch((e: unknown) => e)
    expect(isWsError(error) && error.code).toBe('model_load_failed')
    await gone.close()
  })

  it('detects the language and translates through its form fields (base, German speech)', async () => {
    const url = await startWhisperServer('base')
    const backend = new OpenAiBackend({ baseUrl: url, api: 'whisper-server', servedModel: 'base' })
    await backend.loadModel('base')
    expect(backend.multilingual).toBe(true)
    const heard = await backend.transcribe(german!.audio, WHISPER_SAMPLE_RATE)
    expect(heard.language).toBe('de')
    expect(heard.text.toLowerCase()).toContain('guten morgen')
    const translated = await backend.transcribe(german!.audio, WHISPER_SAMPLE_RATE, { task: 'translate' })
    expect(translated.text.toLowerCase()).toContain('good morning')
    await backend.close()
  }, 300_000)

  it('joins the tokens of its verbose_json into words', () => {
    const body = {
      text: ' The birch canoe.',
      segments: [
        {
          start: 0,
          end: 1.2,
          text: ' The birch canoe.',
          words: [
            { word: '[_BEG_]', start: 0, end: 0, probability: 0.4 },
            { word: ' The', start: 0.1, end: 0.2, probability: 0.9 },
            { word: ' bir', start: 0.2, end: 0.3, probability: 0.8 },
            { word: 'ch', start: 0.3, end: 0.45, probability: 0.6 },
            { word: ' canoe', start: 0.45, end: 0.9, probability: 1 },
            { word: '.', start: 0.9, end: 1.0, probability: 1 },
          ],
        },
      ],
    }
    expect(fromWhisperServer(body, true).words).toEqual([
      { word: 'The', start: 0.1, end: 0.2, probability: 0.9 },
      { word: 'birch', start: 0.2, end: 0.45, probability: 0.7 },
      { word: 'canoe.', start: 0.45, end: 1.0, probability: 1 },
    ])
    expect(fromWhisperServer(body, false).words).toBeUndefined()
  })
})
