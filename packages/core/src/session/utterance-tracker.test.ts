import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type TrackedUtterance, type TrackerEvent, UtteranceTracker } from './utterance-tracker.js'

const FRAME = 320 // 20 ms at 16 kHz

/** Frames whose samples count up from `first`, so that every sample says where it came from. */
function frame(first: number, length = FRAME): Float32Array {
  return Float32Array.from({ length }, (_, i) => (first + i) / 1e7)
}

function sampleIndices(u: TrackedUtterance): number[] {
  return Array.from(u.audio.view(), (x) => Math.round(x * 1e7))
}

/** Pushes frames with their VAD decisions; returns every event and the utterances closed. */
function runVad(
  decisions: boolean[],
  tracker = new UtteranceTracker({ maxSamples: 16_000 * 25, vad: { frameSamples: FRAME } }),
) {
  const events: TrackerEvent[] = []
  decisions.forEach((speech, i) => {
    events.push(...tracker.pushFrame(frame(i * FRAME), speech))
  })
  events.push(...tracker.flush())
  return { events, closed: events.flatMap((e) => (e.type === 'close' ? [e.utterance] : [])) }
}

const speech = (ms: number) => Array<boolean>(ms / 20).fill(true)
const silence = (ms: number) => Array<boolean>(ms / 20).fill(false)

describe('UtteranceTracker with a VAD', () => {
  it('opens at speech with its pre-padding and closes after the hangover, trimmed to the post-padding', () => {
    const { events, closed } = runVad([...silence(1000), ...speech(600), ...silence(1000)])
    expect(events.map((e) => e.type)).toEqual(['speech_start', 'open', 'speech_end', 'close'])
    expect(closed).toHaveLength(1)
    const u = closed[0]!
    expect(u.reason).toBe('speech_end')
    // Default segmenter: 200 ms before the first speech frame, 150 ms after the last.
    expect(u.start).toBe((1000 - 200) * 16)
    expect(u.audio.length).toBe((200 + 600 + 150) * 16)
    expect(sampleIndices(u)[0]).toBe(u.start)
    const start = events[0]!
    expect(start.type === 'speech_start' && start.t).toBeCloseTo(0.8)
  })

  it('an utterance still open at the end of the stream closes with reason "end"', () => {
    const { closed } = runVad([...silence(400), ...speech(600)])
    expect(closed.map((u) => u.reason)).toEqual(['end'])
  })

  it('ends an utterance on request, and goes on with a new one while speech lasts', () => {
    const tracker = new UtteranceTracker({ maxSamples: 16_000 * 25, vad: { frameSamples: FRAME } })
    const events: TrackerEvent[] = []
    const decisions = [...silence(200), ...speech(1000)]
    for (const [i, s] of decisions.entries()) events.push(...tracker.pushFrame(frame(i * FRAME), s))
    events.push(...tracker.endUtterance())
    expect(events.slice(-2).map((e) => e.type)).toEqual(['close', 'open'])
    expect(tracker.open?.start).toBe(tracker.received)
    expect(tracker.cancel().map((e) => e.type)).toEqual(['drop', 'open'])
  })

  it('counts silence since the last speech frame', () => {
    const tracker = new UtteranceTracker({ maxSamples: 16_000 * 25, vad: { frameSamples: FRAME } })
    const decisions = [...speech(400), ...silence(100)]
    for (const [i, s] of decisions.entries()) tracker.pushFrame(frame(i * FRAME), s)
    expect(tracker.silentSamples).toBe(100 * 16)
    expect(tracker.inSpeech).toBe(true)
  })

  it('property: closed utterances never overlap, come in order, and hold the stream samples they claim', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 })), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (runs, maxSeconds) => {
          const decisions = runs.flatMap(([s, n]) => Array<boolean>(n).fill(s))
          const tracker = new UtteranceTracker({
            maxSamples: 16_000 * maxSeconds,
            vad: { frameSamples: FRAME },
          })
          const { closed } = runVad(decisions, tracker)
          let end = 0
          for (const u of closed) {
            expect(u.start).toBeGreaterThanOrEqual(end)
            expect(u.audio.length).toBeLessThanOrEqual(16_000 * maxSeconds)
            const indices = sampleIndices(u)
            expect(indices[0]).toBe(u.start)
            expect(indices.at(-1)).toBe(u.start + u.audio.length - 1)
            end = u.start + u.audio.length
          }
          expect(end).toBeLessThanOrEqual(decisions.length * FRAME)
        },
      ),
    )
  })
})

describe('UtteranceTracker without a VAD', () => {
  it('keeps every sample, split at the length limit and at each end of utterance', () => {
    const tracker = new UtteranceTracker({ maxSamples: 16_000 })
    const events: TrackerEvent[] = []
    let next = 0
    for (const length of [5000, 7000, 9000, 3000]) {
      events.push(...tracker.push(frame(next, length)))
      next += length
    }
    events.push(...tracker.endUtterance())
    events.push(...tracker.push(frame(next, 1000)))
    next += 1000
    events.push(...tracker.flush())
    const closed = events.flatMap((e) => (e.type === 'close' ? [e.utterance] : []))
    expect(closed.map((u) => u.reason)).toEqual(['max_length', 'vad_end', 'end'])
    expect(closed.flatMap(sampleIndices)).toEqual(Array.from({ length: next }, (_, i) => i))
    expect(closed[0]!.audio.length).toBeLessThanOrEqual(16_000)
  })

  it('an utterance ended before any audio gets no final', () => {
    const tracker = new UtteranceTracker({ maxSamples: 16_000 })
    expect(tracker.flush()).toEqual([])
    expect(() => tracker.pushFrame(frame(0), true)).toThrow(TypeError)
  })
})
