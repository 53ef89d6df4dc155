import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatFloat32, float32ToInt16 } from '../audio/pcm.js'
import type { WhisperBackend } from '../backend.js'
import { isWsError, WsError } from '../errors.js'
import { STRATEGY_NAMES } from '../strategies/strategy.js'
import { EnergyVad } from '../testing/fake-vad.js'
import { SyntheticVoice } from '../testing/synthetic-voice.js'
import { TEST_VOCABULARY } from '../testing/vocabulary.js'
import { wordErrorRate } from '../text/wer.js'
import { type SessionEvent, StreamingSession, type StreamingSessionOptions } from './streaming-session.js'
import { collect, fake, finals, partials, SR, streamThrough, voice } from './test-support.js'

const toSample = (seconds: number) => Math.round(seconds * SR)

/** Checks the ordering rules every event stream must keep. */
function checkOrdering(events: SessionEvent[]) {
  const finalised = new Set<number>()
  let lastFinal = 0
  for (const e of events) {
    if (e.type === 'partial') expect(finalised.has(e.utteranceId)).toBe(false)
    if (e.type === 'final') {
      expect(e.utteranceId).toBeGreaterThan(lastFinal)
      lastFinal = e.utteranceId
      finalised.add(e.utteranceId)
    }
  }
}

describe('StreamingSession', () => {
  it('covers every received sample with exactly one final (random frames, vad_end, rates, strategies)', async () => {
    const speech = voice.speak(
      'the quick brown fox jumps over the lazy dog and then runs away into the forest',
      100,
      100,
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rate: fc.constantFrom(16_000, 48_000, 44_100, 8000),
          strategy: fc.constantFrom(...STRATEGY_NAMES),
          frames: fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 40 }),
          vadEnds: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
          maxUtteranceMs: fc.integer({ min: 1000, max: 4000 }),
          partialIntervalMs: fc.constantFrom(0, 100, 500),
          pcm16: fc.boolean(),
        }),
        async (p) => {
          const backend = await fake()
          const session = new StreamingSession({
            backend,
            strategy: p.strategy,
            sampleRate: p.rate,
            maxUtteranceMs: p.maxUtteranceMs,
            partialIntervalMs: p.partialIntervalMs,
          })
          const audio = p.rate === SR ? speech.audio : voiceAt(p.rate)
          const events = collect(session)
          let offset = 0
          p.frames.forEach((size, i) => {
            const frame = audio.subarray(offset, Math.min(audio.length, offset + size))
            offset += frame.length
            if (frame.length > 0) session.pushAudio(p.pcm16 ? float32ToInt16(frame) : frame)
            if (p.vadEnds[i]) session.endUtterance()
          })
          await session.end()
          const all = await events
          checkOrdering(all)
          const total = Math.ceil((offset * SR) / p.rate)
          const ranges = finals(all).map((f) => [toSample(f.audioStart), toSample(f.audioEnd)] as const)
          let expectedStart = 0
          for (const [start, end] of ranges) {
            expect(start).toBe(expectedStart) // no gap, no overlap
            expect(end).toBeGreaterThan(start)
            expectedStart = end
          }
          expect(expectedStart).toBe(total) // nothing left out at the end
          expect(all.filter((e) => e.type === 'error')).toEqual([])
        },
      ),
      { numRuns: 60 },
    )
  })

  it('endUtterance resolves, after the audio before it, with whether an utterance was open', async () => {
    const backend = await fake()
    // An asynchronous VAD: speech_start for this audio is not out when endUtterance is called.
    const session = new StreamingSession({ backend, strategy: 'prompt', vad: new EnergyVad({ async: true }) })
    const events = collect(session)
    session.pushAudio(voice.speak('the quick brown fox', 300, 0).audio)
    expect(await session.endUtterance()).toBe(true)
    expect(await session.endUtterance()).toBe(false)
    await session.end()
    const f = finals(await events)
    expect([f[0]!.text, f[0]!.reason]).toEqual(['the quick brown fox', 'vad_end'])
    // (The VAD still heard speech at the cut, so an utterance went on; it held no words.)
    expect(f.slice(1).map((x) => x.text.trim())).toEqual(f.slice(1).map(() => ''))
    // One still queued when the session closes resolves false.
    const closing = new StreamingSession({ backend, strategy: 'prompt', vad: new EnergyVad({ async: true }) })
    closing.pushAudio(voice.speak('jumps over', 300, 0).audio)
    const queued = closing.endUtterance()
    await closing.close()
    expect(await queued).toBe(false)
  })

  it('finalises on vad_end and keeps the transcript whole across utterances', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend, strategy: 'hybrid' })
    const events = collect(session)
    const a = voice.speak('the quick brown fox', 0, 200)
    const b = voice.speak('jumps over the lazy dog', 0, 200)
    session.pushAudio(a.audio)
    session.endUtterance()
    session.pushAudio(b.audio)
    await session.end()
    const f = finals(await events)
    expect(f.map((x) => [x.text, x.reason])).toEqual([
      ['the quick brown fox', 'vad_end'],
      ['jumps over the lazy dog', 'end'],
    ])
    expect(f[1]!.audioStart).toBeCloseTo(a.audio.length / SR, 6)
    // Segment times are stream times.
    expect(f[1]!.segments[0]!.start).toBeGreaterThanOrEqual(f[1]!.audioStart - 0.01)
  })

  it('with a VAD, finds utterances by itself and emits speech events', async () => {
    const backend = await fake()
    for (const asyncVad of [false, true]) {
      const session = new StreamingSession({
        backend,
        strategy: 'context',
        vad: new EnergyVad({ async: asyncVad }),
      })
      const events = collect(session)
      const parts = [
        voice.speak('the quick brown fox', 700, 0),
        voice.speak('jumps over the lazy dog', 900, 0),
        voice.speak('and then runs away', 1200, 1000),
      ]
      const audio = concatFloat32(parts.map((x) => x.audio))
      for (let i = 0; i < audio.length; i += 777) session.pushAudio(audio.subarray(i, i + 777))
      await session.end()
      const all = await events
      checkOrdering(all)
      const f = finals(all)
      expect(f.map((x) => x.text)).toEqual(parts.map((x) => x.text))
      expect(f.every((x) => x.reason === 'speech_end')).toBe(true)
      expect(all.filter((e) => e.type === 'speech_start')).toHaveLength(3)
      expect(all.filter((e) => e.type === 'speech_end')).toHaveLength(3)
      // Every speech sample is inside one final; finals never overlap.
      let offset = 0
      parts.forEach((part, i) => {
        const first = part.words[0]!
        const last = part.words[part.words.length - 1]!
        const start = offset / SR + first.start
        const end = offset / SR + last.end
        expect(f[i]!.audioStart).toBeLessThanOrEqual(start)
        expect(f[i]!.audioEnd).toBeGreaterThanOrEqual(end)
        if (i > 0) expect(f[i]!.audioStart).toBeGreaterThanOrEqual(f[i - 1]!.audioEnd)
        offset += part.audio.length
      })
    }
  })

  it('with a VAD, ends an utterance still open at the end of the stream', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend, vad: new EnergyVad() })
    const events = collect(session)
    const speech = voice.speak('the lazy dog sleeps', 500, 0)
    session.pushAudio(speech.audio)
    await session.end()
    const f = finals(await events)
    expect(f.map((x) => [x.text, x.reason])).toEqual([['the lazy dog sleeps', 'end']])
    expect(toSample(f[0]!.audioEnd)).toBe(speech.audio.length)
  })

  it('splits an utterance at the maximum length at a quiet point, losing no word', async () => {
    const backend = await fake()
    const session = new StreamingSession({
      backend,
      strategy: 'prompt',
      maxUtteranceMs: 2000,
      partialIntervalMs: 0,
    })
    const events = collect(session)
    const speech = voice.speak(
      'the quick brown fox jumps over the lazy dog and then runs away into the forest',
    )
    session.pushAudio(speech.audio)
    await session.end()
    const f = finals(await events)
    expect(f.length).toBeGreaterThanOrEqual(3)
    expect(f.slice(0, -1).every((x) => x.reason === 'max_length')).toBe(true)
    expect(f.every((x) => x.audioEnd - x.audioStart <= 2)).toBe(true)
    expect(wordErrorRate(speech.text, f.map((x) => x.text).join(' ')).wer).toBe(0)
  })

  it('sends partials while speech is buffered; agreement partials have stable text that only grows', async () => {
    const backend = await fake()
    const session = new StreamingSession({
      backend,
      strategy: 'agreement',
      partialIntervalMs: 300,
      agreement: { minChunkMs: 0 },
    })
    const speech = voice.speak('the quick brown fox jumps over the lazy dog and then runs away', 0, 300)
    // Frames arrive over time, so partials run between them.
    const all = await streamThrough(session, speech.audio, 1600, () => new Promise((r) => setTimeout(r, 5)))
    checkOrdering(all)
    const p = partials(all)
    expect(p.length).toBeGreaterThan(5)
    for (let i = 1; i < p.length; i++) {
      expect(p[i]!.audioEnd).toBeGreaterThan(p[i - 1]!.audioEnd)
      expect(p[i]!.stable.startsWith(p[i - 1]!.stable)).toBe(true)
    }
    expect(p[p.length - 1]!.stable.length).toBeGreaterThan(0)
    expect(finals(all).map((x) => x.text)).toEqual([speech.text])
  })

  it('gives agreement steps of at least its minChunkMs (default 1 s) after the first, whatever partialIntervalMs says', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend, strategy: 'agreement', partialIntervalMs: 300 })
    const speech = voice.speak('the quick brown fox jumps over the lazy dog and then runs away', 0, 300)
    const all = await streamThrough(session, speech.audio, 1600, () => new Promise((r) => setTimeout(r, 5)))
    const p = partials(all)
    expect(p.length).toBeGreaterThan(2)
    expect(p[0]!.audioEnd - p[0]!.audioStart).toBeLessThan(1) // the first comes early
    for (let i = 1; i < p.length; i++) expect(p[i]!.audioEnd - p[i - 1]!.audioEnd).toBeGreaterThan(0.999)
  })

  it('cancel drops the current utterance only', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend })
    const events = collect(session)
    session.pushAudio(voice.speak('the quick brown fox').audio)
    session.cancelUtterance()
    const kept = voice.speak('over the lazy dog')
    session.pushAudio(kept.audio)
    await session.end()
    const f = finals(await events)
    expect(f.map((x) => x.text)).toEqual(['over the lazy dog'])
  })

  it('retries a failed final once, then reports the audio it could not transcribe', async () => {
    let failures = 1
    const inner = await fake()
    const flaky: WhisperBackend = {
      name: 'flaky',
      loadModel: (m) => inner.loadModel(m),
      close: () => inner.close(),
      transcribe: async (audio, rate, options) => {
        if (failures-- > 0) throw new WsError('backend_failed', 'worker died', { retryable: true })
        return inner.transcribe(audio, rate, options)
      },
    }
    const s1 = new StreamingSession({ backend: flaky, partialIntervalMs: 0 })
    const e1 = collect(s1)
    s1.pushAudio(voice.speak('the lazy dog').audio)
    await s1.end()
    expect(finals(await e1).map((x) => x.text)).toEqual(['the lazy dog'])

    failures = 10
    const s2 = new StreamingSession({ backend: flaky, partialIntervalMs: 0 })
    const e2 = collect(s2)
    const lost = voice.speak('the lazy dog')
    s2.pushAudio(lost.audio)
    s2.endUtterance()
    failures = 2
    s2.pushAudio(voice.speak('runs away').audio)
    await s2.end()
    const all = await e2
    const error = all.find((e) => e.type === 'error')
    expect(error).toMatchObject({ type: 'error', utteranceId: 1, audioStart: 0 })
    expect(error && 'audioEnd' in error && error.audioEnd).toBeCloseTo(lost.audio.length / SR, 6)
    expect(finals(all).map((x) => x.text)).toEqual(['runs away'])
  })

  it('close() is idempotent, aborts inference in flight and ends the events', async () => {
    const backend = await fake({ delayMs: 10_000 })
    const session = new StreamingSession({ backend, partialIntervalMs: 0 })
    const events = collect(session)
    session.pushAudio(voice.speak('the quick brown fox').audio)
    session.endUtterance()
    await new Promise((r) => setTimeout(r, 20))
    const t0 = Date.now()
    await Promise.all([session.close(), session.close()])
    expect(Date.now() - t0).toBeLessThan(5000) // did not wait for the 10 s inference
    expect(await events).toEqual([])
    expect(() => session.pushAudio(new Float32Array(10))).toThrow(WsError)
    await session.end() // harmless after close
  })

  it('leaving the for-await loop closes the session', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend, partialIntervalMs: 0 })
    session.pushAudio(voice.speak('the quick brown fox').audio)
    session.endUtterance()
    session.pushAudio(voice.speak('the lazy dog').audio)
    void session.end()
    for await (const e of session) {
      expect(e.type).toBe('final')
      break
    }
    expect(session.closed).toBe(true)
  })

  it('an AbortSignal closes the session', async () => {
    const backend = await fake()
    const controller = new AbortController()
    const session = new StreamingSession({ backend, signal: controller.signal })
    controller.abort()
    expect(session.closed).toBe(true)
  })

  it('rejects bad audio and bad options with typed errors', async () => {
    const backend = await fake()
    const session = new StreamingSession({ backend })
    const codeOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        return isWsError(err) ? err.code : 'untyped'
      }
      return 'none'
    }
    expect(codeOf(() => session.pushAudio(new Float32Array([0, Number.NaN])))).toBe('invalid_audio')
    expect(codeOf(() => session.pushAudio([1, 2] as unknown as Float32Array))).toBe('invalid_audio')
    const bad: Partial<StreamingSessionOptions>[] = [
      { strategy: 'nope' as never },
      { partialIntervalMs: 10 },
      { maxUtteranceMs: 29_500, strategy: 'context' },
      { reviseBeamSize: 0 },
      { reviseBeamSize: 2.5 },
      { reviseBeamSize: 9 },
      { vad: new EnergyVad({ sampleRate: 8000, frameSamples: 240 }) },
    ]
    for (const options of bad)
      expect(codeOf(() => new StreamingSession({ backend, ...options }))).toBe('invalid_config')
    expect(codeOf(() => new StreamingSession({ backend, sampleRate: 22.5 }))).toBe('unsupported_sample_rate')
    // An option passed as undefined takes its default, as a missing one does.
    const unset = new StreamingSession({ backend, partialIntervalMs: undefined, strategy: undefined })
    await unset.close()
    await session.close()
  })
})

const voiceCache = new Map<number, Float32Array>()
function voiceAt(rate: number): Float32Array {
  let audio = voiceCache.get(rate)
  if (!audio) {
    const v = new SyntheticVoice({ vocabulary: TEST_VOCABULARY, sampleRate: rate })
    audio = v.speak(
      'the quick brown fox jumps over the lazy dog and then runs away into the forest',
      100,
      100,
    ).audio
    voiceCache.set(rate, audio)
  }
  return audio
}
