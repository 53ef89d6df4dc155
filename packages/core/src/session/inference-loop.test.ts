import { describe, expect, it } from 'vitest'
import { concatFloat32 } from '../audio/pcm.js'
import { EnergyVad } from '../testing/fake-vad.js'
import { InferenceScheduler } from './scheduler.js'
import { type SessionEvent, StreamingSession } from './streaming-session.js'
import { fake, finals, nextTurn, partials, SR, streamThrough, voice } from './test-support.js'

// The inference loop, through the session: finals computed ahead, calls stopped behind a
// gate, degenerate text kept from the user.

describe('StreamingSession speculative finals', () => {
  async function run(speculativeFinalMs: number, audio: Float32Array) {
    const backend = await fake()
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      vad: new EnergyVad(),
      partialIntervalMs: 0,
      speculativeFinalMs,
    })
    return { events: await streamThrough(session, audio, 320), calls: backend.calls }
  }

  it('computes the final at a pause and uses it when the VAD ends the utterance', async () => {
    const parts = [
      voice.speak('the quick brown fox', 300, 0),
      voice.speak('jumps over the lazy dog', 900, 900),
    ]
    const audio = concatFloat32(parts.map((p) => p.audio))
    const ahead = await run(60, audio)
    const plain = await run(0, audio)
    const texts = (r: { events: SessionEvent[] }) => finals(r.events).map((f) => f.text)
    expect(texts(ahead)).toEqual(parts.map((p) => p.text))
    expect(texts(ahead)).toEqual(texts(plain))
    const f = finals(ahead.events)
    // No transcription covered a whole final: each came from audio that ended in its pause.
    for (const final of f) {
      const samples = Math.round((final.audioEnd - final.audioStart) * SR)
      expect(ahead.calls.some((c) => c.samples === samples)).toBe(false)
      expect(plain.calls.some((c) => c.samples === samples)).toBe(true)
    }
    expect(f.map((x) => x.audioEnd)).toEqual(finals(plain.events).map((x) => x.audioEnd))
  })

  it('drops a speculation when speech resumes, so no word is lost', async () => {
    // A 150 ms pause inside the utterance: longer than 60 ms, shorter than the hangover.
    const parts = [
      voice.speak('the quick brown fox', 300, 150),
      voice.speak('jumps over the lazy dog', 0, 900),
    ]
    const audio = concatFloat32(parts.map((p) => p.audio))
    const { events, calls } = await run(60, audio)
    const f = finals(events)
    expect(f).toHaveLength(1)
    expect(f[0]!.text).toBe(`${parts[0]!.text} ${parts[1]!.text}`)
    expect(calls.length).toBeGreaterThanOrEqual(2) // the dropped speculation, then the final's
  })
})

describe('StreamingSession behind a gate', () => {
  // Audio is pushed far faster than the fake's 400 ms calls: pauses between words and the
  // utterance's end come while a call is running.
  async function run(stopsRunningCalls: boolean) {
    const backend = await fake({ delayMs: 400, stopsRunningCalls })
    const spoken = voice.speak('the quick brown fox jumps over the lazy dog', 300, 900)
    const scheduler = new InferenceScheduler()
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      vad: new EnergyVad(),
      gate: scheduler.gate(),
      partialIntervalMs: 500,
      minPartialMs: 300,
    })
    return { events: await streamThrough(session, spoken.audio, 320), backend, text: spoken.text, scheduler }
  }

  it('stops running calls that became useless, if the backend can: the same final', async () => {
    const stopping = await run(true)
    const waiting = await run(false)
    for (const r of [stopping, waiting]) {
      expect(finals(r.events).map((f) => f.text)).toEqual([r.text])
    }
    // A partial the final supersedes, a speculation that speech resumed after: stopped.
    expect(stopping.backend.abortedWhileRunning).toBeGreaterThan(0)
    // Without the capability they run to their end and their results are dropped.
    expect(waiting.backend.abortedWhileRunning).toBe(0)
    // The scheduler books the finals computed ahead apart (here the last one was the final).
    expect(stopping.scheduler.stats.byKind.ahead.calls).toBeGreaterThan(0)
  })
})

describe('StreamingSession computing a final ahead on a busy engine', () => {
  // Another session's revision holds the only turn while this utterance is said and falls
  // silent (audio far faster than real time), and for 50 ms more.
  async function run(stopsRunningCalls: boolean) {
    const backend = await fake({ stopsRunningCalls })
    const scheduler = new InferenceScheduler()
    const revision = await scheduler.gate().acquire('revision')
    setTimeout(() => revision.release(), 50)
    const spoken = voice.speak('the quick brown fox jumps over the lazy dog', 300, 900)
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      vad: new EnergyVad(),
      gate: scheduler.gate(),
      partialIntervalMs: 0,
    })
    const events = await streamThrough(session, spoken.audio, 320)
    return { events, text: spoken.text, stats: scheduler.stats }
  }

  it('asks for it anyway when the backend can stop it', async () => {
    const stopping = await run(true)
    expect(finals(stopping.events).map((f) => f.text)).toEqual([stopping.text])
    // At each pause between words one is asked, and stopped when speech resumes; the last is the final.
    expect(stopping.stats.byKind.ahead.calls).toBeGreaterThan(0)
    expect(stopping.stats.byKind.final.calls).toBe(0)
    // A backend that cannot stop it would waste the engine when speech resumes: the final waits.
    const waiting = await run(false)
    expect(finals(waiting.events).map((f) => f.text)).toEqual([waiting.text])
    expect(waiting.stats.byKind.ahead.calls).toBe(0)
    expect(waiting.stats.byKind.final.calls).toBe(1)
  })
})

describe('StreamingSession and degenerate text', () => {
  const loop = Array(60).fill('n').join(' ')
  // Previews alternate between a loop (as a reduced-window decode sometimes gives on real
  // speech) and plain text; finals loop or not as asked.
  async function run(finalLoops: boolean) {
    const spoken = voice.speak('the quick brown fox jumps over the lazy dog', 300, 300)
    let previews = 0
    const backend = await fake({
      respond: (audio, options) => {
        const text = options.preview
          ? ++previews % 2 === 0
            ? loop
            : 'the quick brown'
          : finalLoops
            ? loop
            : 'the quick brown fox'
        return [{ start: 0, end: audio.length / SR, text }]
      },
    })
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 500,
      minPartialMs: 300,
    })
    const pause = () => new Promise((r) => setTimeout(r, 0))
    return { events: await streamThrough(session, spoken.audio, 1600, pause), previews }
  }

  it('drops a looping partial and marks a looping final low_confidence', async () => {
    const { events, previews } = await run(true)
    expect(previews).toBeGreaterThanOrEqual(2)
    expect(partials(events).length).toBeGreaterThan(0)
    for (const p of partials(events)) expect(p.text).toBe('the quick brown')
    expect(finals(events)).toMatchObject([{ text: loop, lowConfidence: true }])
  })

  it('leaves plain text untouched', async () => {
    const { events } = await run(false)
    const [final] = finals(events)
    expect(final!.text).toBe('the quick brown fox')
    expect(final).not.toHaveProperty('lowConfidence')
  })
})

describe('StreamingSession partial cadence', () => {
  // One utterance (no VAD) of `seconds`, pushed in 20 ms frames; the audio decoded by
  // partials (previews), in seconds.
  async function partialWork(seconds: number, partialIntervalRatio?: number) {
    const backend = await fake({ respond: () => [] })
    // Each frame waits for the calls it started: the clock is the audio, as in the benchmark's
    // virtual mode, so where partials fall does not depend on the machine.
    let inFlight = 0
    const transcribe = backend.transcribe.bind(backend)
    backend.transcribe = async (...args) => {
      inFlight++
      try {
        return await transcribe(...args)
      } finally {
        inFlight--
      }
    }
    const settle = async () => {
      await nextTurn()
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 1))
    }
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 500,
      ...(partialIntervalRatio === undefined ? {} : { partialIntervalRatio }),
    })
    await streamThrough(session, new Float32Array(seconds * SR).fill(0.1), 320, settle)
    const previews = backend.calls.filter((c) => c.options.preview)
    return previews.reduce((sum, c) => sum + c.samples, 0) / SR
  }

  it('grows at most linearly with the utterance: a partial decodes it all, so the interval grows', async () => {
    const [w6, w12, w24] = [await partialWork(6), await partialWork(12), await partialWork(24)]
    // Each partial decodes the whole utterance so far: the interval grows with it (by the
    // default ratio r = 0.25), so decoded audio stays below (1 + r) / r = 5 × its length.
    for (const [work, seconds] of [
      [w6, 6],
      [w12, 12],
      [w24, 24],
    ] as const) {
      expect(work).toBeGreaterThan(seconds) // partials ran
      expect(work).toBeLessThanOrEqual(5 * seconds)
    }
    // Twice the audio, about twice the work (the last partial's place makes it jitter; under
    // 2 s the interval is still the fixed 500 ms, so 6 s is left out of this).
    expect(w24 / w12).toBeLessThan(3)
  })

  it('grows with the square of the utterance at a fixed interval (partialIntervalRatio 0)', async () => {
    const [w12, w24] = [await partialWork(12, 0), await partialWork(24, 0)]
    expect(w24 / w12).toBeGreaterThan(3.5)
  })
})

describe('StreamingSession segment times', () => {
  // An engine whose segments say whole seconds (as tiny.en's timestamp tokens do) and whose
  // words say when they were said: 0–2 s and 1–2 s around words at 0.5–0.9 and 1.0–1.0 s.
  const respond = () => [
    { start: 0, end: 2, text: 'the quick', words: [{ start: 0.5, end: 0.9, text: 'the quick' }] },
    { start: 1, end: 2, text: 'brown', words: [{ start: 1, end: 1, text: 'brown' }] },
  ]

  it.each([true, false])(
    'gives finals their words’ times, in order and never of zero length (words asked: %s)',
    async (wordTimestamps) => {
      const spoken = voice.speak('the quick brown fox', 300, 300)
      const backend = await fake({ respond })
      const session = new StreamingSession({
        backend,
        strategy: 'prompt',
        partialIntervalMs: 0,
        wordTimestamps,
      })
      const [final] = finals(await streamThrough(session, spoken.audio, 1600))
      const at = final!.audioStart
      if (wordTimestamps) {
        expect(final!.segments.map((s) => [s.start - at, s.end - at])).toEqual([
          [0.5, 0.9],
          [1, expect.closeTo(1.01, 9)],
        ])
        expect(final!.segments[0]?.words).toHaveLength(1)
      } else {
        // Without word times asked, the engine's times: ordered, no overlap.
        expect(final!.segments.map((s) => [s.start - at, s.end - at])).toEqual([
          [0, 1],
          [1, 2],
        ])
        expect(final!.segments[0]).not.toHaveProperty('words')
      }
    },
  )
})
