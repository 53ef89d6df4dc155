import { describe, expect, it } from 'vitest'
import { concatFloat32 } from '../audio/pcm.js'
import type { TranscribeOptions, WhisperBackend } from '../backend.js'
import type { TranscriptResult } from '../types.js'
import type { VadBackend } from '../vad.js'
import { validateVadFrame } from '../vad.js'
import { backendConformance } from './backend-conformance.js'
import { runConformance } from './conformance.js'
import { FakeBackend } from './fake-backend.js'
import { EnergyVad } from './fake-vad.js'
import { SyntheticVoice } from './synthetic-voice.js'
import { vadConformance } from './vad-conformance.js'
import { TEST_VOCABULARY } from './vocabulary.js'

const voice = new SyntheticVoice({ vocabulary: TEST_VOCABULARY })
const fixtures = [
  'the quick brown fox jumps over the lazy dog',
  'and then runs away into the forest',
  'where it sleeps until morning comes again',
].map((text, i) => ({ name: `sentence ${i + 1}`, audio: voice.speak(text, 200, 300).audio, text }))
const promptProbe = {
  audio: voice.speak('kubernetes runs', 100, 100).audio,
  prompt: 'We deploy on Kubernetes.',
  expect: 'Kubernetes',
}

// ---- backends ---------------------------------------------------------------------------

type Fault =
  | 'garbles'
  | 'late timestamps'
  | 'no words'
  | 'ignores language'
  | 'echoes the language asked for'
  | 'ignores prompt'
  | 'ignores abort'
  | 'shares state between calls'
  | 'accepts bad audio'
  | 'accepts any model'
  | 'transcribes before loadModel'
  | 'works after close'

/** The good fake with one defect. */
class BrokenBackend implements WhisperBackend {
  readonly name = 'broken'
  readonly #inner = new FakeBackend({ voice, delayMs: 5 })
  #current: Float32Array | undefined

  constructor(readonly fault: Fault) {}

  loadModel(model: string) {
    return this.#inner.loadModel(this.fault === 'accepts any model' ? 'fake' : model)
  }

  async transcribe(
    audio: Float32Array,
    rate: number,
    options: TranscribeOptions = {},
  ): Promise<TranscriptResult> {
    const f = this.fault
    const opts = { ...options }
    if (f === 'ignores prompt') delete opts.initialPrompt
    if (f === 'ignores abort') delete opts.signal
    if (f === 'transcribes before loadModel' && !this.#inner.model) await this.#inner.loadModel('fake')
    if (
      f === 'accepts bad audio' &&
      (audio.length === 0 || rate !== 16_000 || audio.some((s) => !Number.isFinite(s)))
    ) {
      return { text: '', segments: [], language: 'en', processingTimeMs: 0 }
    }
    if (f === 'shares state between calls') {
      this.#current = audio
      await new Promise((r) => setTimeout(r, 5))
      audio = this.#current
    }
    const r = await this.#inner.transcribe(audio, rate, opts)
    switch (f) {
      case 'garbles':
        return { ...r, text: r.text.split(' ').reverse().join(' ') }
      case 'late timestamps':
        return { ...r, segments: r.segments.map((s) => ({ ...s, start: s.start + 5, end: s.end + 5 })) }
      case 'no words':
        return { ...r, segments: r.segments.map(({ words: _w, ...s }) => s) }
      case 'ignores language':
        return { ...r, language: 'xx' }
      case 'echoes the language asked for': // no detection: whatever it was told, else nothing
        return { ...r, language: options.language ?? '' }
      default:
        return r
    }
  }

  async close() {
    if (this.fault !== 'works after close') await this.#inner.close()
  }
}

const LANGUAGE_CASE =
  "reports the language: detected (or the model's only one) when not given, as given otherwise"

const backendSuite = (createBackend: () => WhisperBackend) =>
  backendConformance({ createBackend, model: 'fake', fixtures, maxWer: 0.1, promptProbe })

describe('backend conformance suite', () => {
  it('passes the good fake', async () => {
    const report = await runConformance(backendSuite(() => new FakeBackend({ voice, delayMs: 5 })))
    expect(report.failed.map((f) => `${f.name}: ${f.error.message}`)).toEqual([])
    expect(report.passed).toHaveLength(11)
  })

  const expectations: [Fault, string][] = [
    ['garbles', 'transcribes known speech within the WER bound'],
    ['late timestamps', 'timestamps lie inside the audio and increase'],
    ['no words', 'reports word timestamps when asked'],
    ['ignores language', LANGUAGE_CASE],
    ['echoes the language asked for', LANGUAGE_CASE],
    ['ignores prompt', 'honours the initial prompt'],
    ['ignores abort', 'an aborted signal rejects with "aborted", and the backend goes on working'],
    ['shares state between calls', 'concurrent calls are safe'],
    ['accepts bad audio', 'rejects bad audio with typed errors'],
    ['accepts any model', 'an unknown model gives "model_not_found"'],
    ['transcribes before loadModel', 'transcribe before loadModel gives "model_not_loaded"'],
    ['works after close', 'close is idempotent and later calls give "closed"'],
  ]
  for (const [fault, failingCase] of expectations) {
    it(`fails a backend that ${fault}`, async () => {
      const report = await runConformance(backendSuite(() => new BrokenBackend(fault)))
      expect(report.failed.map((f) => f.name)).toContain(failingCase)
    })
  }
})

// ---- VADs -------------------------------------------------------------------------------

const gapsMs = [300, 2000, 700, 1200]
const sentences = [
  'the quick brown fox',
  'jumps over',
  'the lazy dog',
  'and then runs away',
  'into the forest',
]
function speechWithSilences() {
  const parts: Float32Array[] = []
  const utterances: { start: number; end: number }[] = []
  let t = 0
  sentences.forEach((s, i) => {
    const lead = i === 0 ? 500 : gapsMs[i - 1]!
    const spoken = voice.speak(s, lead, 0)
    const first = spoken.words[0]!
    const last = spoken.words[spoken.words.length - 1]!
    utterances.push({ start: t + first.start, end: t + last.end })
    parts.push(spoken.audio)
    t += spoken.audio.length / 16_000
  })
  parts.push(new Float32Array(16_000))
  return { name: 'five sentences', audio: concatFloat32(parts), utterances }
}

function noise(seconds: number, amplitude: number, seed = 1) {
  let x = seed
  return Float32Array.from({ length: seconds * 16_000 }, () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return amplitude * (x / 1073741824 - 1)
  })
}

const nonSpeech = [
  { name: 'silence', audio: new Float32Array(3 * 16_000) },
  { name: 'quiet noise', audio: noise(3, 0.01) },
]

type VadFault =
  | 'always speech'
  | 'deaf'
  | 'any frame size'
  | 'no NaN check'
  | 'reset keeps state'
  | 'bad frame size'

class BrokenVad implements VadBackend {
  readonly sampleRate = 16_000
  readonly frameSamples: number
  readonly #inner = new EnergyVad()
  #loudFrames = 0

  constructor(readonly fault: VadFault) {
    this.frameSamples = fault === 'bad frame size' ? 0 : 480
  }

  isSpeech(frame: Float32Array | Int16Array): boolean {
    const f = this.fault
    if (f === 'any frame size' && frame.length !== 480) return false
    if (f === 'no NaN check' && frame instanceof Float32Array)
      frame = frame.map((s) => (Number.isFinite(s) ? s : 0))
    const speech = this.#inner.isSpeech(frame) as boolean
    if (f === 'always speech') return true
    if (f === 'deaf') return false
    if (f === 'reset keeps state') {
      if (speech) this.#loudFrames++
      return speech && this.#loudFrames < 40 // goes deaf after 40 loud frames, and reset() does not cure it
    }
    return speech
  }

  reset() {}
}

const vadSuite = (createVad: () => VadBackend) =>
  vadConformance({ createVad, speech: [speechWithSilences()], nonSpeech })

describe('VAD conformance suite', () => {
  it('passes the good fake', async () => {
    const report = await runConformance(vadSuite(() => new EnergyVad()))
    expect(report.failed.map((f) => `${f.name}: ${f.error.message}`)).toEqual([])
    expect(report.passed).toHaveLength(7)
  })

  const expectations: [VadFault, string][] = [
    ['always speech', 'finds no speech in audio without speech'],
    ['deaf', 'finds every utterance, with boundaries within tolerance'],
    ['any frame size', 'rejects frames of the wrong size or with non-finite samples'],
    ['no NaN check', 'rejects frames of the wrong size or with non-finite samples'],
    ['reset keeps state', 'reset() restores a fresh state'],
    ['bad frame size', 'declares its frame size and rate'],
  ]
  for (const [fault, failingCase] of expectations) {
    it(`fails a VAD that has "${fault}"`, async () => {
      const report = await runConformance(vadSuite(() => new BrokenVad(fault)))
      expect(report.failed.map((f) => f.name)).toContain(failingCase)
    })
  }

  it('fails boundaries that are off by more than the tolerance', async () => {
    // A VAD that hears speech 200 ms late.
    class LateVad extends EnergyVad {
      #history: boolean[] = []
      override isSpeech(frame: Float32Array | Int16Array): boolean {
        validateVadFrame(frame, this.frameSamples)
        this.#history.push(super.isSpeech(frame) as boolean)
        return this.#history.length > 7 ? this.#history[this.#history.length - 8]! : false
      }
      override reset() {
        this.#history = []
      }
    }
    const report = await runConformance(vadSuite(() => new LateVad()))
    // Off in detection, and so in the session's finals.
    expect(report.failed.map((f) => f.name)).toEqual([
      'finds every utterance, with boundaries within tolerance',
      'drives a StreamingSession: one final per utterance (or two, split at a pause), none in silence',
    ])
  })
})
