// What the session's tests share (not part of the package: no entry point imports it).
import { FakeBackend } from '../testing/fake-backend.js'
import { SyntheticVoice } from '../testing/synthetic-voice.js'
import { TEST_VOCABULARY } from '../testing/vocabulary.js'
import type { FinalEvent, PartialEvent, SessionEvent } from './events.js'
import type { StreamingSession } from './streaming-session.js'

export const voice = new SyntheticVoice({ vocabulary: TEST_VOCABULARY })

/** Six short sentences of the test vocabulary, spoken one utterance each. */
export const SENTENCES = [
  'the quick brown fox',
  'jumps over the lazy dog',
  'and then runs away',
  'into the forest',
  'where it sleeps until morning',
  'comes again',
]
export const SR = 16_000

/** A fake backend that hears {@link voice}, its model loaded. */
export async function fake(options: ConstructorParameters<typeof FakeBackend>[0] = {}): Promise<FakeBackend> {
  const b = new FakeBackend({ voice, ...options })
  await b.loadModel('fake')
  return b
}

/** Every event of a session, once it ends. */
export async function collect(session: StreamingSession): Promise<SessionEvent[]> {
  const events: SessionEvent[] = []
  for await (const e of session) events.push(e)
  return events
}

export const finals = (events: SessionEvent[]) => events.filter((e): e is FinalEvent => e.type === 'final')
export const partials = (events: SessionEvent[]) =>
  events.filter((e): e is PartialEvent => e.type === 'partial')

/** The next turn of the event loop: what a frame arriving over time gives the session. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Pushes `audio` in frames of `frameSamples`, waiting `pause()` after each so the session's
 * work runs between frames, then ends the session; resolves with every event.
 */
export async function streamThrough(
  session: StreamingSession,
  audio: Float32Array,
  frameSamples: number,
  pause: () => Promise<unknown> = nextTurn,
): Promise<SessionEvent[]> {
  const events = collect(session)
  for (let i = 0; i < audio.length; i += frameSamples) {
    session.pushAudio(audio.subarray(i, i + frameSamples))
    await pause()
  }
  await session.end()
  return events
}
