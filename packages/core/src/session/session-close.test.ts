import { describe, expect, it } from 'vitest'
import { InferenceScheduler } from './scheduler.js'
import { StreamingSession } from './streaming-session.js'
import { fake, SENTENCES, voice } from './test-support.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Whether `close()` settled. The bound is only there so a hang fails the test instead of
 * the run: every call here takes at most 40 ms of fake inference, so a close that works
 * settles long before it.
 */
async function closes(session: StreamingSession): Promise<boolean> {
  return Promise.race([session.close().then(() => true), sleep(5000).then(() => false)])
}

interface Case {
  /** Where the client leaves. */
  when: 'revision due, utterance open' | 'mid-final' | 'mid-revision' | 'mid-partial' | 'reading stopped'
  revisions: boolean
  stopsRunningCalls: boolean
}

const WHEN: Case['when'][] = [
  'revision due, utterance open',
  'mid-final',
  'mid-revision',
  'mid-partial',
  'reading stopped',
]
const CASES: Case[] = WHEN.flatMap((when) =>
  [true, false].flatMap((revisions) =>
    [false, true].map((stopsRunningCalls) => ({ when, revisions, stopsRunningCalls })),
  ),
)

/**
 * A client that sends faster than real time (every utterance at once, as `ws-transcribe
 * file.wav` does) and then leaves: the session's close settles, its turns at the shared
 * scheduler are given back, and nothing it queued runs afterwards.
 */
describe('closing a session always settles', () => {
  it.each(CASES)('$when, revisions $revisions, stopsRunningCalls $stopsRunningCalls', async (c) => {
    const backend = await fake({ delayMs: 40, stopsRunningCalls: c.stopsRunningCalls })
    const scheduler = new InferenceScheduler()
    const session = new StreamingSession({
      backend,
      gate: scheduler.gate(),
      strategy: 'prompt',
      partialIntervalMs: c.when === 'mid-partial' ? 100 : 0,
      reviseMaxMs: c.revisions ? 5000 : 0,
    })
    // Nobody reads the events when the client stopped reading; otherwise a reader drains them.
    if (c.when !== 'reading stopped')
      void (async () => {
        for await (const _ of session) {
          // drained
        }
      })()
    const utterances = c.when === 'mid-partial' ? 1 : 3 * SENTENCES.length
    for (let i = 0; i < utterances; i++) {
      session.pushAudio(voice.speak(SENTENCES[i % SENTENCES.length]!, 100, 200).audio)
      session.endUtterance()
    }
    switch (c.when) {
      case 'revision due, utterance open':
        // Let the finals and a block fall due, then speech starts again and the client leaves.
        await waitFor(() => session.backlogSeconds === 0)
        session.pushAudio(voice.speak('and then runs away', 100, 0).audio)
        break
      case 'mid-final':
        await waitFor(() => backend.calls.length >= 2)
        break
      case 'mid-revision':
        await waitFor(() => backend.calls.some((call) => call.options.background === true) || !c.revisions)
        break
      case 'mid-partial':
        session.pushAudio(voice.speak('jumps over the lazy dog and then runs away', 100, 0).audio)
        await waitFor(() => backend.calls.length >= 1)
        break
      case 'reading stopped':
        await sleep(100)
        break
    }
    expect(await closes(session)).toBe(true)
    const callsAtClose = backend.calls.length
    await sleep(150)
    // Nothing queued ran after the close, and the scheduler holds nothing for it.
    expect(backend.calls.length).toBe(callsAtClose)
    expect(scheduler.stats).toMatchObject({ running: 0, queuedFinals: 0, queuedPartials: 0 })
    expect(scheduler.idle).toBe(true)
  })

  it('a session closed while blocks wait for revision (reviseMaxMs 5000) settles, as with revisions off', async () => {
    // The reported leak, as it was reproduced: finals done, revision blocks due, and an
    // utterance open, so the loop waits for a pause to revise; the client goes away.
    for (const reviseMaxMs of [5000, 0]) {
      const backend = await fake()
      const session = new StreamingSession({ backend, strategy: 'prompt', partialIntervalMs: 0, reviseMaxMs })
      for (let i = 0; i < 12; i++) {
        session.pushAudio(voice.speak(SENTENCES[i % SENTENCES.length]!, 100, 200).audio)
        session.endUtterance()
      }
      await waitFor(() => session.backlogSeconds === 0)
      session.pushAudio(voice.speak('into the forest', 100, 0).audio)
      await sleep(20)
      expect(await closes(session)).toBe(true)
    }
  })
})

/** Until `condition` holds (5 s at most, then the test fails). */
const waitFor = (condition: () => boolean) =>
  expect.poll(condition, { timeout: 5000, interval: 10 }).toBe(true)
