import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import type { FakeBackend } from '../testing/fake-backend.js'
import type { RevisionEvent, SessionEvent } from './events.js'
import { Reviser } from './reviser.js'
import type { StreamingSessionOptions } from './streaming-options.js'
import { StreamingSession } from './streaming-session.js'
import { collect, fake, finals, SENTENCES, SR, voice } from './test-support.js'

interface RunOptions extends Partial<Omit<StreamingSessionOptions, 'backend'>> {
  backend?: FakeBackend
  /** Spoken one after another, each ended by vad_end; SENTENCES by default. */
  sentences?: readonly string[]
  /** Silence before the first sentence. */
  leadInSamples?: number
}

/** A `prompt` session over the fake backend (or `backend`); every event once the session ends. */
async function run(options: RunOptions = {}) {
  const { sentences = SENTENCES, leadInSamples = 0, ...rest } = options
  const backend = rest.backend ?? (await fake())
  const session = new StreamingSession({ strategy: 'prompt', partialIntervalMs: 0, ...rest, backend })
  const events = collect(session)
  if (leadInSamples) session.pushAudio(new Float32Array(leadInSamples))
  for (const s of sentences) {
    session.pushAudio(voice.speak(s, 100, 200).audio)
    session.endUtterance()
  }
  await session.end()
  return { events: await events, backend }
}
const revisions = (events: { type: string }[]) =>
  events.filter((e): e is RevisionEvent => e.type === 'revision')

/**
 * Every final revised exactly once, in order, by revisions of neighbouring utterances whose
 * text is their finals' (the fake backend hears the same words in the joined audio).
 */
function expectEachFinalRevisedOnce(events: SessionEvent[]) {
  const f = finals(events)
  const r = revisions(events)
  expect(r.flatMap((x) => x.utteranceIds)).toEqual(f.map((x) => x.utteranceId))
  for (const x of r) {
    const own = f.filter((y) => x.utteranceIds.includes(y.utteranceId))
    expect(x.text).toBe(own.map((y) => y.text).join(' '))
  }
  return { f, r }
}

describe('revisions', () => {
  it('decode finished utterances again in blocks of at most reviseMaxMs, each utterance once, the last at the end', async () => {
    const { events, backend } = await run({ reviseMaxMs: 5000 })
    const { f, r } = expectEachFinalRevisedOnce(events)
    expect(f).toHaveLength(SENTENCES.length)
    expect(r.length).toBeGreaterThan(1)
    expect(r.some((x) => x.utteranceIds.length > 1)).toBe(true)
    for (const x of r) {
      const own = f.filter((y) => x.utteranceIds.includes(y.utteranceId))
      expect(x.audioStart).toBeCloseTo(own[0]!.audioStart, 6)
      expect(x.audioEnd).toBeCloseTo(own.at(-1)!.audioEnd, 6)
      // The block is the stream from its first utterance to its last: at most reviseMaxMs.
      expect(own.at(-1)!.audioEnd - own[0]!.audioStart).toBeLessThanOrEqual(5 + 1e-6)
      // Segment and word times are back on the stream's timeline, inside their utterance.
      for (const w of x.segments.flatMap((s) => s.words ?? [])) {
        const home = own.find((y) => w.start >= y.audioStart - 0.01 && w.end <= y.audioEnd + 0.01)
        expect(home, `${w.text} at ${w.start}–${w.end}`).toBeDefined()
      }
    }
    // The session's end waited for the last block: it is the last event.
    expect(events.at(-1)!.type).toBe('revision')
    // By default a block is decoded without the text before it as prompt (the carry-over of
    // a misrecognition into the next sentence): no revision call has a prompt.
    const revisionCalls = backend.calls.filter((c) => c.options.background === true)
    expect(revisionCalls.every((c) => c.options.initialPrompt === undefined)).toBe(true)
    // Nobody waits for a revision: each is asked as background work, no final is.
    expect(backend.calls.filter((c) => c.options.background === true)).toHaveLength(r.length)
  })

  it("decode with a beam (reviseBeamSize, default 5) where finals and partials keep the backend's own", async () => {
    for (const [options, beam] of [
      [{}, 5],
      [{ reviseBeamSize: 2 }, 2],
    ] as const) {
      const { backend } = await run({ reviseMaxMs: 5000, ...options })
      const revisionCalls = backend.calls.filter((c) => c.options.background === true)
      expect(revisionCalls.length).toBeGreaterThan(1)
      expect(revisionCalls.every((c) => c.options.beamSize === beam)).toBe(true)
      expect(
        backend.calls.filter((c) => !c.options.background).every((c) => c.options.beamSize === undefined),
      ).toBe(true)
    }
  })

  it('prompt each block after the first with the revised text before it when revisePromptChars is set', async () => {
    const { events, backend } = await run({ reviseMaxMs: 5000, revisePromptChars: 200 })
    const r = revisions(events)
    const decodes = backend.calls.filter(
      (c) => c.options.background === true && c.options.initialPrompt !== undefined,
    )
    expect(decodes.some((c) => String(c.options.initialPrompt).endsWith(r[0]!.text))).toBe(true)
  })

  it('are off by default, and refuse a block too short to help', async () => {
    const { events } = await run()
    expect(revisions(events)).toEqual([])
    expect(finals(events)).toHaveLength(SENTENCES.length)
    const backend = await fake()
    let code = ''
    try {
      new StreamingSession({ backend, reviseMaxMs: 1000 })
    } catch (err) {
      code = isWsError(err) ? err.code : 'untyped'
    }
    expect(code).toBe('invalid_config')
  })

  it('stop with the session: a closed session emits no revision', async () => {
    const backend = await fake()
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 0,
      reviseMaxMs: 5000,
    })
    const events = collect(session)
    session.pushAudio(voice.speak(SENTENCES[0]!, 100, 200).audio)
    session.endUtterance()
    await session.close()
    expect(revisions(await events)).toEqual([])
    expect(SR).toBe(16_000)
  })
})

describe('Reviser', () => {
  it('keeps at most four blocks waiting: when revisions fall behind, the oldest block is dropped and said so', async () => {
    const warned: unknown[] = []
    const logger = { debug() {}, info() {}, error() {}, warn: (o: unknown) => warned.push(o) }
    const emitted: unknown[] = []
    const reviser = new Reviser({
      backend: await fake(),
      logger,
      signal: new AbortController().signal,
      maxBlockSamples: SR,
      keepSamples: 2 * SR,
      maxPromptChars: 200,
      emit: (e) => emitted.push(e),
    })
    // Ten utterances of 0.6 s, 1 s apart: each closes the block before it.
    for (let k = 0; k < 10; k++) reviser.add(k, new Float32Array(0.6 * SR), k * SR)
    reviser.finish()
    expect(reviser.backlog).toBe(4)
    expect(warned.map((w) => (w as { utteranceIds: number[] }).utteranceIds)).toEqual([
      [0],
      [1],
      [2],
      [3],
      [4],
      [5],
    ])
    expect(emitted).toEqual([])
  })
})

describe('revisions and finals', () => {
  it('a revision waits for a pause: none starts while an utterance is open, so the next final does not wait behind it', async () => {
    const backend = await fake({ delayMs: 5 })
    const longest = Math.max(...SENTENCES.map((s) => voice.speak(s, 100, 200).audio.length))
    let speaking = false
    let revisedInSpeech = 0
    let revised = 0
    const transcribe = backend.transcribe.bind(backend)
    backend.transcribe = (audio, rate, options) => {
      // A revision decodes several utterances at once: longer than any one of them.
      if (audio.length > longest) {
        revised++
        if (speaking) revisedInSpeech++
      }
      return transcribe(audio, rate, options)
    }
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 0,
      reviseMaxMs: 5000,
    })
    const events = collect(session)
    const wait = () => new Promise((resolve) => setTimeout(resolve, 30))
    // Each utterance starts as the one before ends: its final (and a block that falls due
    // with it) is decoded while the next utterance is open.
    for (const s of SENTENCES) {
      session.pushAudio(voice.speak(s, 100, 200).audio)
      speaking = true
      await wait()
      session.endUtterance()
      speaking = false
    }
    await session.end()
    expectEachFinalRevisedOnce(await events)
    expect(revised).toBeGreaterThan(1)
    expect(revisedInSpeech).toBe(0)
  })

  it('revisions do not starve in speech without pauses: a second due block runs while an utterance is open', async () => {
    const backend = await fake({ delayMs: 5 })
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 0,
      reviseMaxMs: 5000,
    })
    const events: SessionEvent[] = []
    const reading = (async () => {
      for await (const e of session) events.push(e)
    })()
    for (const s of [...SENTENCES, ...SENTENCES, ...SENTENCES]) {
      session.pushAudio(voice.speak(s, 100, 200).audio)
      await new Promise((resolve) => setTimeout(resolve, 30))
      session.endUtterance()
    }
    const before = revisions(events).length
    await session.end()
    await reading
    expect(before).toBeGreaterThan(0)
    expectEachFinalRevisedOnce(events)
  })

  it('a final does not wait behind a revision the backend can stop: the revision runs again after it', async () => {
    const backend = await fake({ delayMs: 40, stopsRunningCalls: true })
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      partialIntervalMs: 0,
      reviseMaxMs: 5000,
    })
    const events = collect(session)
    // Utterances end one after another with no pause for the revisions to run in.
    for (const s of [...SENTENCES, ...SENTENCES]) {
      session.pushAudio(voice.speak(s, 100, 200).audio)
      session.endUtterance()
      await new Promise((resolve) => setTimeout(resolve, 45))
    }
    await session.end()
    // Every final is still revised exactly once, in order, and every revision is whole.
    const { f, r } = expectEachFinalRevisedOnce(await events)
    expect(f).toHaveLength(2 * SENTENCES.length)
    // Some revision was stopped for a final (the fake backend counts aborted calls as calls).
    const decodes = backend.calls.filter((c) => c.options.initialPrompt !== undefined || c.samples > 5 * SR)
    expect(backend.calls.length).toBeGreaterThan(f.length + r.length)
    expect(decodes.length).toBeGreaterThan(0)
  })
})

describe('a revision merged with its finals', () => {
  /**
   * The fake hears every word; this backend gives each a probability, and mishears two words
   * of the first two sentences: "fox" as "box" (sure) in the finals, which the revision hears
   * right; "lazy" as "hazy" (unsure) in the revision, which the finals heard right (sure).
   */
  async function misheard() {
    const backend = await fake({ wordProbabilities: true })
    const transcribe = backend.transcribe.bind(backend)
    const swap = (text: string, background: boolean) => {
      if (!background && text === 'fox') return { text: 'box', probability: 0.4 }
      if (background && text === 'lazy') return { text: 'hazy', probability: 0.3 }
      return { text, probability: 0.9 }
    }
    backend.transcribe = async (audio, rate, options = {}) => {
      const r = await transcribe(audio, rate, options)
      const segments = r.segments.map((s) => {
        const words = s.words?.map((w) => ({ ...w, ...swap(w.text, options.background === true) }))
        return words ? { ...s, words, text: words.map((w) => w.text).join(' ') } : s
      })
      return { ...r, segments, text: segments.map((s) => s.text).join(' ') }
    }
    return backend
  }

  it('keeps, of each word the two decodes heard differently, the one the model was surer of', async () => {
    const { events: all, backend } = await run({
      backend: await misheard(),
      reviseMaxMs: 28_000,
      sentences: SENTENCES.slice(0, 2),
    })
    expect(finals(all).map((f) => f.text)).toEqual(['the quick brown box', 'jumps over the lazy dog'])
    const [r, ...more] = revisions(all)
    expect(more).toEqual([])
    expect(r!.text).toBe('the quick brown fox jumps over the lazy dog')
    // Finals and revisions were decoded with their words (their probabilities), but the
    // session did not ask for word times: its events carry none.
    expect(backend.calls.filter((c) => !c.options.preview).every((c) => c.options.wordTimestamps)).toBe(true)
    expect(all.flatMap((e) => ('segments' in e ? e.segments : [])).some((s) => s.words)).toBe(false)
  })

  it('carries the merged words, with stream times, when the session asks for word times', async () => {
    const { events } = await run({
      backend: await misheard(),
      reviseMaxMs: 28_000,
      wordTimestamps: true,
      sentences: SENTENCES.slice(0, 2),
      leadInSamples: SR,
    })
    const [r] = revisions(events)
    const words = r!.segments.flatMap((s) => s.words ?? [])
    expect(words.map((w) => w.text).join(' ')).toBe('the quick brown fox jumps over the lazy dog')
    expect(words[0]!.start).toBeGreaterThanOrEqual(1)
    expect(words.every((w, k) => k === 0 || w.start >= words[k - 1]!.start)).toBe(true)
  })
})

describe('a revision on a backend without word probabilities, or that heard nothing', () => {
  it('asks no word times and replaces its finals whole when the backend does not declare wordProbabilities', async () => {
    const { events, backend } = await run({ reviseMaxMs: 5000 })
    expectEachFinalRevisedOnce(events)
    expect(backend.calls.some((c) => c.options.wordTimestamps)).toBe(false)
  })

  it('leaves the finals as they were when the revision comes back empty', async () => {
    const backend = await fake({ wordProbabilities: true })
    const transcribe = backend.transcribe.bind(backend)
    backend.transcribe = async (audio, rate, options = {}) => {
      const r = await transcribe(audio, rate, options)
      const segments = options.background
        ? [{ start: 0, end: 0.1, text: '. .', words: [{ start: 0, end: 0.1, text: '.', probability: 0.9 }] }]
        : r.segments.map((s) => ({ ...s, words: s.words?.map((w) => ({ ...w, probability: 0.9 })) }))
      return { ...r, segments, text: segments.map((s) => s.text).join(' ') }
    }
    const { events: all } = await run({ backend, reviseMaxMs: 28_000, sentences: SENTENCES.slice(0, 1) })
    expect(revisions(all).map((r) => r.text)).toEqual([finals(all)[0]!.text])
  })

  it('leave out an utterance whose final heard nothing: no block of those alone is decoded', async () => {
    const backend = await fake()
    const session = new StreamingSession({
      strategy: 'prompt',
      partialIntervalMs: 0,
      backend,
      reviseMaxMs: 5000,
    })
    const events = collect(session)
    // Noise the VAD held as speech, whose final came back empty; then a sentence; then more.
    const noise = () => {
      session.pushAudio(new Float32Array(SR))
      session.endUtterance()
    }
    noise()
    noise()
    session.pushAudio(voice.speak(SENTENCES[0]!, 100, 200).audio)
    session.endUtterance()
    noise()
    await session.end()
    const all = await events
    const f = finals(all)
    expect(f.map((x) => x.text.trim() !== '')).toEqual([false, false, true, false])
    const r = revisions(all)
    expect(r.flatMap((x) => x.utteranceIds)).toEqual([f[2]!.utteranceId])
    expect(r[0]!.text).toBe(f[2]!.text)
    expect(backend.calls.filter((c) => c.options.background)).toHaveLength(1)
  })
})
