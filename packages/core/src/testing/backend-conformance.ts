import { MAX_BEAM_SIZE, type WhisperBackend } from '../backend.js'
import { wordErrorRate } from '../text/wer.js'
import { textOfWords } from '../text/words.js'
import type { TranscriptResult } from '../types.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { ConformanceError, type ConformanceSuite, check, expectWsError } from './conformance.js'

export interface SpeechFixture {
  name: string
  /** 16 kHz mono. */
  audio: Float32Array
  /** What is said. */
  text: string
}

export interface BackendConformanceOptions {
  createBackend: () => WhisperBackend | Promise<WhisperBackend>
  /** The model to load (a name or a path). */
  model: string
  fixtures: readonly SpeechFixture[]
  /** Bound on the corpus WER over the fixtures (0..1). */
  maxWer: number
  /**
   * How far a result may drift from the same audio transcribed alone, as the WER between the
   * two transcripts: in concurrent calls (a backend may batch them), after an abort, and
   * (added to that fixture's own WER) with a neutral prompt (default 0.15).
   */
  maxDrift?: number
  /** The language of the fixtures (default "en"). */
  language?: string
  /**
   * Speech with a word that the model writes one way unprompted and another way when the
   * prompt spells it: proves the prompt reaches the model. Without it, the suite only checks
   * that a prompt does not break transcription or leak into the output.
   */
  promptProbe?: { audio: Float32Array; prompt: string; expect: string }
  /** Whether the backend reports word timestamps (default true). */
  wordTimestamps?: boolean
  /** Tolerance for timestamps past the end of the audio, in seconds (default 0.3). */
  timestampToleranceSeconds?: number
  /** Calls made at once in the concurrency check (default 3). */
  concurrency?: number
  /** A model name that does not exist (default "no-such-model-conformance"). */
  unknownModel?: string
  /** Receives what was measured (corpus WER and per-fixture results), for reports. */
  onMeasure?: (measure: {
    wer: number
    fixtures: { name: string; wer: number; text: string; processingTimeMs: number }[]
  }) => void
}

/**
 * The contract every {@link WhisperBackend} must keep, checked against the real thing: a
 * real model on real speech. See the WhisperBackend docs for the contract itself.
 */
export function backendConformance(options: BackendConformanceOptions): ConformanceSuite {
  const o = {
    language: 'en',
    wordTimestamps: true,
    timestampToleranceSeconds: 0.3,
    concurrency: 3,
    unknownModel: 'no-such-model-conformance',
    maxDrift: 0.15,
    ...options,
  }
  check(o.fixtures.length > 0, 'backendConformance needs at least one speech fixture')
  let backend: WhisperBackend | undefined
  const use = () => {
    if (!backend) throw new ConformanceError('setup did not create the backend')
    return backend
  }
  const transcribe = (audio: Float32Array, extra: Parameters<WhisperBackend['transcribe']>[2] = {}) =>
    use().transcribe(audio, WHISPER_SAMPLE_RATE, { language: o.language, ...extra })
  // Each fixture's transcript when transcribed alone: what later cases compare against.
  const alone = new Map<string, string>()
  const aloneText = async (f: (typeof o.fixtures)[number]) => {
    const known = alone.get(f.name)
    if (known !== undefined) return known
    const text = (await transcribe(f.audio)).text
    alone.set(f.name, text)
    return text
  }
  /** Checks that `text` is (nearly) what `f` gives alone. */
  const checkSameAsAlone = async (f: (typeof o.fixtures)[number], text: string, what: string) => {
    const reference = await aloneText(f)
    const drift = wordErrorRate(reference, text, { language: o.language }).wer
    check(
      drift <= o.maxDrift,
      `${what} (${f.name}): "${text}" differs from the transcript alone "${reference}" (${(drift * 100).toFixed(1)}%)`,
    )
  }
  const fresh = async (fn: (b: WhisperBackend) => Promise<void>) => {
    const b = await o.createBackend()
    try {
      await fn(b)
    } finally {
      await b.close()
    }
  }

  const checkTimes = (result: TranscriptResult, duration: number, what: string) => {
    const limit = duration + o.timestampToleranceSeconds
    let previous = -Infinity
    for (const s of result.segments) {
      check(Number.isFinite(s.start) && Number.isFinite(s.end), `${what}: segment times must be finite`)
      check(
        s.start >= 0 && s.start <= s.end,
        `${what}: segment [${s.start}, ${s.end}] is not a valid interval`,
      )
      check(s.end <= limit, `${what}: segment ends at ${s.end}s, after the audio's ${duration.toFixed(2)}s`)
      check(
        s.start >= previous,
        `${what}: segment starting at ${s.start}s comes after one starting at ${previous}s`,
      )
      previous = s.start
      let previousWord = -Infinity
      for (const w of s.words ?? []) {
        check(
          w.start >= 0 && w.start <= w.end && w.end <= limit,
          `${what}: word "${w.text}" has times [${w.start}, ${w.end}]`,
        )
        check(w.start >= previousWord, `${what}: word "${w.text}" starts before the word before it`)
        previousWord = w.start
      }
    }
  }

  return {
    name: 'WhisperBackend conformance',
    setup: async () => {
      backend = await o.createBackend()
      await backend.loadModel(o.model)
    },
    teardown: async () => {
      await backend?.close()
      backend = undefined
    },
    cases: [
      {
        name: 'transcribes known speech within the WER bound',
        run: async () => {
          const measured: { name: string; wer: number; text: string; processingTimeMs: number }[] = []
          let errors = 0
          let words = 0
          for (const f of o.fixtures) {
            const result = await transcribe(f.audio)
            check(typeof result.text === 'string', `${f.name}: text must be a string`)
            alone.set(f.name, result.text)
            const w = wordErrorRate(f.text, result.text, { language: o.language })
            errors += w.substitutions + w.deletions + w.insertions
            words += w.referenceWords
            measured.push({
              name: f.name,
              wer: w.wer,
              text: result.text,
              processingTimeMs: result.processingTimeMs,
            })
          }
          const wer = words === 0 ? 0 : errors / words
          o.onMeasure?.({ wer, fixtures: measured })
          const worst = measured.map((m) => `${m.name}: ${(m.wer * 100).toFixed(1)}% "${m.text}"`).join('; ')
          check(
            wer <= o.maxWer,
            `corpus WER ${(wer * 100).toFixed(1)}% is above ${(o.maxWer * 100).toFixed(1)}% (${worst})`,
          )
        },
      },
      {
        name: 'timestamps lie inside the audio and increase',
        run: async () => {
          // The shortest, the longest and one more: a second pass over every fixture (the WER
          // case's) added a tenth or more to a backend's suite and found nothing those do not.
          for (const f of timedFixtures(o.fixtures)) {
            const result = await transcribe(f.audio, { wordTimestamps: o.wordTimestamps })
            check(result.segments.length > 0, `${f.name}: no segments for speech`)
            checkTimes(result, f.audio.length / WHISPER_SAMPLE_RATE, f.name)
            check(result.processingTimeMs >= 0, `${f.name}: processingTimeMs must be >= 0`)
          }
        },
      },
      {
        name: 'reports word timestamps when asked',
        run: async () => {
          if (!o.wordTimestamps) return
          const f = o.fixtures[0]!
          const result = await transcribe(f.audio, { wordTimestamps: true })
          const words = result.segments.flatMap((s) => s.words ?? [])
          check(words.length > 0, 'no words in the segments although wordTimestamps was true')
          for (const s of result.segments) {
            check(s.words && s.words.length > 0, `segment "${s.text}" has no words`)
            const w = wordErrorRate(s.text, textOfWords(s.words), { language: o.language })
            check(
              w.wer <= 0.2,
              `the words of segment "${s.text}" do not spell its text: "${textOfWords(s.words)}"`,
            )
          }
          const plain = await transcribe(f.audio, { wordTimestamps: false })
          check(
            plain.segments.every((s) => !s.words || s.words.length === 0),
            'words were reported although wordTimestamps was false',
          )
        },
      },
      {
        name: "reports the language: detected (or the model's only one) when not given, as given otherwise",
        run: async () => {
          const audio = o.fixtures[0]!.audio
          const detected = await use().transcribe(audio, WHISPER_SAMPLE_RATE)
          check(
            detected.language === o.language,
            `with no language given, the result says "${detected.language}" for "${o.language}" speech`,
          )
          const given = await transcribe(audio, { language: o.language })
          check(given.language === o.language, `asked for "${o.language}", result says "${given.language}"`)
        },
      },
      {
        name: 'honours the initial prompt',
        run: async () => {
          if (o.promptProbe) {
            const { audio, prompt, expect } = o.promptProbe
            const plain = await transcribe(audio)
            check(
              !plain.text.includes(expect),
              `prompt probe is not discriminating: "${expect}" appears without the prompt too ("${plain.text}")`,
            )
            const prompted = await transcribe(audio, { initialPrompt: prompt })
            check(
              prompted.text.includes(expect),
              `with prompt "${prompt}" expected "${expect}" in "${prompted.text}"`,
            )
            return
          }
          const f = o.fixtures[0]!
          const prompt = 'The following is a recording of careful speech.'
          const result = await transcribe(f.audio, { initialPrompt: prompt })
          check(!result.text.includes(prompt), 'the prompt leaked into the transcript')
          const w = wordErrorRate(f.text, result.text, { language: o.language }).wer
          const without = wordErrorRate(f.text, await aloneText(f), { language: o.language }).wer
          check(
            w <= without + o.maxDrift,
            `with a prompt, WER ${(w * 100).toFixed(1)}% against ${(without * 100).toFixed(1)}% without: "${result.text}"`,
          )
        },
      },
      {
        name: 'an aborted signal rejects with "aborted", and the backend goes on working',
        run: async () => {
          const f = o.fixtures.reduce((a, b) => (b.audio.length > a.audio.length ? b : a))
          await expectWsError(
            transcribe(f.audio, { signal: AbortSignal.abort() }),
            'aborted',
            'an already aborted signal',
          )
          const controller = new AbortController()
          const pending = transcribe(f.audio, { signal: controller.signal })
          setImmediate(() => controller.abort())
          await expectWsError(pending, 'aborted', 'a signal aborted during the call')
          const after = await transcribe(o.fixtures[0]!.audio)
          await checkSameAsAlone(o.fixtures[0]!, after.text, 'after an abort')
        },
      },
      {
        name: 'concurrent calls are safe',
        run: async () => {
          const jobs = Array.from(
            { length: Math.max(2, o.concurrency) },
            (_, i) => o.fixtures[i % o.fixtures.length]!,
          )
          for (const f of jobs) await aloneText(f)
          const results = await Promise.all(jobs.map((f) => transcribe(f.audio)))
          for (const [i, r] of results.entries())
            await checkSameAsAlone(jobs[i]!, r.text, `concurrent call ${i}`)
        },
      },
      {
        name: 'rejects bad audio with typed errors',
        run: async () => {
          await expectWsError(transcribe(new Float32Array(0)), 'invalid_audio', 'empty audio')
          const nan = o.fixtures[0]!.audio.slice()
          nan[Math.floor(nan.length / 2)] = Number.NaN
          await expectWsError(transcribe(nan), 'invalid_audio', 'audio with a NaN sample')
          const inf = o.fixtures[0]!.audio.slice()
          inf[0] = Number.POSITIVE_INFINITY
          await expectWsError(transcribe(inf), 'invalid_audio', 'audio with an infinite sample')
          await expectWsError(
            use().transcribe(o.fixtures[0]!.audio, 44_100, { language: o.language }),
            'unsupported_sample_rate',
            'audio at 44.1 kHz',
          )
          await expectWsError(
            transcribe(o.fixtures[0]!.audio, { beamSize: 0 }),
            'invalid_config',
            'beamSize 0',
          )
          await expectWsError(
            transcribe(o.fixtures[0]!.audio, { beamSize: MAX_BEAM_SIZE + 1 }),
            'invalid_config',
            `beamSize ${MAX_BEAM_SIZE + 1}`,
          )
        },
      },
      {
        name: 'an unknown model gives "model_not_found"',
        run: () =>
          fresh((b) =>
            expectWsError(b.loadModel(o.unknownModel), 'model_not_found', `loadModel("${o.unknownModel}")`),
          ),
      },
      {
        name: 'transcribe before loadModel gives "model_not_loaded"',
        run: () =>
          fresh((b) =>
            expectWsError(
              b.transcribe(o.fixtures[0]!.audio, WHISPER_SAMPLE_RATE),
              'model_not_loaded',
              'transcribe before loadModel',
            ),
          ),
      },
      {
        name: 'close is idempotent and later calls give "closed"',
        run: async () => {
          const b = await o.createBackend()
          await b.close()
          await b.close()
          await expectWsError(
            b.transcribe(o.fixtures[0]!.audio, WHISPER_SAMPLE_RATE),
            'closed',
            'transcribe after close',
          )
        },
      },
    ],
  }
}

/** Three fixtures whose times are checked: the shortest, the longest and the first. */
function timedFixtures<T extends { audio: Float32Array }>(fixtures: readonly T[]): T[] {
  const byLength = [...fixtures].sort((a, b) => a.audio.length - b.audio.length)
  return [...new Set([byLength[0]!, byLength.at(-1)!, fixtures[0]!])]
}
