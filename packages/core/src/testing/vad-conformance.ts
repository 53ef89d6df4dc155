import { resample } from '../audio/resample.js'
import { withDefaults } from '../options.js'
import { StreamingSession } from '../session/streaming-session.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { detectSpeech, type SpeechRegion } from '../vad/detect.js'
import { DEFAULT_VAD_SEGMENTER_OPTIONS, type VadSegmenterOptions } from '../vad/segmenter.js'
import type { VadBackend } from '../vad.js'
import { ConformanceError, type ConformanceSuite, check, expectWsError } from './conformance.js'
import { FakeBackend } from './fake-backend.js'

export interface VadSpeechFixture {
  name: string
  /** 16 kHz mono. */
  audio: Float32Array
  /** Where speech truly is, in seconds. */
  utterances: readonly SpeechRegion[]
}

export interface VadConformanceOptions {
  createVad: () => VadBackend | Promise<VadBackend>
  /** Audio with utterances at known times (separated by known silences). */
  speech: readonly VadSpeechFixture[]
  /** Audio with no speech at all (silence, noise), 16 kHz mono. */
  nonSpeech: readonly { name: string; audio: Float32Array }[]
  /** Segmenter settings (default: the VAD's `segmenterDefaults`, then the core defaults). */
  segmenter?: VadSegmenterOptions
  /** How far a found boundary may be from the truth plus padding (default 150 ms). */
  toleranceMs?: number
  /** Share of frame decisions that must repeat exactly after reset() (default 0.99). */
  resetAgreement?: number
}

/**
 * The contract every {@link VadBackend} must keep, checked on real audio with the core
 * segmenter: the frame contract with typed errors; every utterance found, none merged with
 * another, its outer boundaries where they truly are (an utterance may be split at a pause
 * inside it, which a duration-based segmenter cannot tell from a pause between utterances,
 * but not fragmented); no speech in non-speech; and reset() restoring a fresh state.
 */
export function vadConformance(options: VadConformanceOptions): ConformanceSuite {
  let segmenter: Required<VadSegmenterOptions> = withDefaults(
    DEFAULT_VAD_SEGMENTER_OPTIONS,
    options.segmenter,
  )
  const tolerance = (options.toleranceMs ?? 150) / 1000
  let vad: VadBackend | undefined
  const use = () => {
    if (!vad) throw new ConformanceError('setup did not create the VAD')
    return vad
  }
  const atRate = (audio: Float32Array) => {
    const rate = use().sampleRate
    return rate === WHISPER_SAMPLE_RATE ? audio : resample(audio, WHISPER_SAMPLE_RATE, rate)
  }

  const show = (r: readonly SpeechRegion[]) =>
    r.map((x) => `[${x.start.toFixed(2)}, ${x.end.toFixed(2)}]`).join(' ')
  const overlaps = (a: SpeechRegion, b: SpeechRegion) => a.start < b.end && a.end > b.start
  /** Found regions against the truth: none in silence, none merged, none fragmented, boundaries in tolerance. */
  const checkRegions = (name: string, regions: readonly SpeechRegion[], truth: readonly SpeechRegion[]) => {
    const pre = segmenter.prePaddingMs / 1000
    const post = segmenter.postPaddingMs / 1000
    const where = `${name}: found ${show(regions)}; truth ${show(truth)}`
    const stray = regions.filter((r) => !truth.some((t) => overlaps(r, t)))
    check(stray.length === 0, `${name}: speech found in silence at ${show(stray)}`)
    // An utterance may be split at a pause inside it, but not into fragments.
    check(
      regions.length <= 2 * truth.length,
      `${name}: ${regions.length} pieces for ${truth.length} utterances`,
    )
    let previousEnd = 0
    truth.forEach((t, i) => {
      const hits = regions.filter((r) => overlaps(r, t))
      check(hits.length > 0, `${name}: utterance ${i + 1} ${show([t])} was not found (${where})`)
      const merged = hits.find((r) => truth.some((o, j) => j !== i && overlaps(r, o)))
      check(!merged, `${name}: utterance ${i + 1} was merged with another in ${show(merged ? [merged] : [])}`)
      const first = hits[0]!
      const last = hits[hits.length - 1]!
      const start = Math.max(previousEnd, t.start - pre)
      const end = t.end + post
      previousEnd = last.end
      check(
        Math.abs(first.start - start) <= tolerance && Math.abs(last.end - end) <= tolerance,
        `${name}: utterance ${i + 1} found at ${show([{ start: first.start, end: last.end }])}, expected ${show([{ start, end }])} ± ${tolerance * 1000} ms (truth ${show([t])} plus padding)`,
      )
    })
  }

  return {
    name: 'VadBackend conformance',
    setup: async () => {
      check(options.speech.length > 0, 'vadConformance needs at least one speech fixture')
      vad = await options.createVad()
      segmenter = withDefaults(
        withDefaults(DEFAULT_VAD_SEGMENTER_OPTIONS, vad.segmenterDefaults),
        options.segmenter,
      )
    },
    teardown: async () => {
      await vad?.close?.()
      vad = undefined
    },
    cases: [
      {
        name: 'declares its frame size and rate',
        run: async () => {
          const v = use()
          check(
            Number.isInteger(v.sampleRate) && v.sampleRate >= 8000,
            `sampleRate ${v.sampleRate} is not a valid rate`,
          )
          check(
            Number.isInteger(v.frameSamples) && v.frameSamples > 0,
            `frameSamples ${v.frameSamples} is not a positive integer`,
          )
          const ms = (v.frameSamples * 1000) / v.sampleRate
          check(ms >= 5 && ms <= 100, `a frame lasts ${ms} ms; expected 5 to 100 ms`)
        },
      },
      {
        name: 'decides Float32 and PCM16 frames of the right size',
        run: async () => {
          const v = use()
          const silence32 = await v.isSpeech(new Float32Array(v.frameSamples))
          const silence16 = await v.isSpeech(new Int16Array(v.frameSamples))
          check(
            typeof silence32 === 'boolean' && typeof silence16 === 'boolean',
            'isSpeech must give a boolean',
          )
          v.reset()
        },
      },
      {
        name: 'rejects frames of the wrong size or with non-finite samples',
        run: async () => {
          const v = use()
          const n = v.frameSamples
          for (const size of [0, n - 1, n + 1, n * 2]) {
            await expectWsError(
              async () => v.isSpeech(new Float32Array(size)),
              'invalid_frame',
              `a frame of ${size} samples`,
            )
          }
          await expectWsError(
            async () => v.isSpeech(new Int16Array(n + 1)),
            'invalid_frame',
            `a PCM16 frame of ${n + 1} samples`,
          )
          const nan = new Float32Array(n)
          nan[n >> 1] = Number.NaN
          await expectWsError(async () => v.isSpeech(nan), 'invalid_frame', 'a frame with a NaN sample')
          v.reset()
        },
      },
      {
        name: 'finds every utterance, with boundaries within tolerance',
        run: async () => {
          const v = use()
          for (const fixture of options.speech) {
            v.reset()
            const { regions } = await detectSpeech(v, atRate(fixture.audio), segmenter)
            checkRegions(fixture.name, regions, fixture.utterances)
          }
        },
      },
      {
        name: 'drives a StreamingSession: one final per utterance (or two, split at a pause), none in silence',
        run: async () => {
          const v = use()
          // A session runs its VAD at 16 kHz; a VAD at another rate cannot drive one.
          if (v.sampleRate !== WHISPER_SAMPLE_RATE) return
          const backend = new FakeBackend()
          await backend.loadModel('fake')
          for (const fixture of options.speech) {
            v.reset()
            const session = new StreamingSession({
              backend,
              vad: v,
              vadSegmenter: segmenter,
              partialIntervalMs: 0,
            })
            const finals: SpeechRegion[] = []
            const reading = (async () => {
              for await (const e of session)
                if (e.type === 'final') finals.push({ start: e.audioStart, end: e.audioEnd })
            })()
            for (let i = 0; i < fixture.audio.length; i += 1600)
              session.pushAudio(fixture.audio.subarray(i, i + 1600))
            await session.end()
            await reading
            checkRegions(`${fixture.name} (session finals)`, finals, fixture.utterances)
          }
        },
      },
      {
        name: 'finds no speech in audio without speech',
        run: async () => {
          const v = use()
          for (const fixture of options.nonSpeech) {
            v.reset()
            const { regions } = await detectSpeech(v, atRate(fixture.audio), segmenter)
            check(
              regions.length === 0,
              `${fixture.name}: found speech at ${regions.map((r) => `[${r.start.toFixed(2)}, ${r.end.toFixed(2)}]`).join(' ')}`,
            )
          }
        },
      },
      {
        name: 'reset() restores a fresh state',
        run: async () => {
          const fixture = options.speech[0]!
          const audio = atRate(fixture.audio)
          const freshVad = await options.createVad()
          let expected: boolean[]
          try {
            expected = (await detectSpeech(freshVad, audio, segmenter)).decisions
          } finally {
            await freshVad.close?.()
          }
          const v = use()
          // Leave state behind: other audio first, then reset.
          const other = options.nonSpeech[0]?.audio ?? fixture.audio.map((s) => s * 3)
          await detectSpeech(v, atRate(other), segmenter)
          await detectSpeech(v, audio.subarray(0, Math.floor(audio.length / 2)), segmenter)
          v.reset()
          const { decisions } = await detectSpeech(v, audio, segmenter)
          const same = decisions.filter((d, i) => d === expected[i]).length
          const share = same / Math.max(1, expected.length)
          const need = options.resetAgreement ?? 0.99
          check(
            decisions.length === expected.length && share >= need,
            `after reset(), ${(share * 100).toFixed(1)}% of frame decisions match a fresh VAD's (need ${need * 100}%)`,
          )
        },
      },
    ],
  }
}
