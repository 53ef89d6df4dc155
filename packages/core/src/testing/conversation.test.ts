import { describe, expect, it } from 'vitest'
import { realConversation, speakerEnd, TURN_END_BELOW_PEAK_DB } from './conversation.js'
import type { LoadedRealSpeech } from './real-speech.js'

const SR = 16_000
/** Seeded noise at `level` (RMS about level / √3) for `seconds`. */
function noise(seconds: number, level: (t: number) => number, seed = 1): Float32Array {
  let x = seed
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => {
    x = (x * 1103515245 + 12345) % 2147483648
    return (x / 1073741824 - 1) * level(i / SR)
  })
}
/** A clip: 0.2 s of near silence, 1 s at full level, then `tail` (level over time), then silence. */
function clip(tail: (t: number) => number, tailSeconds: number): LoadedRealSpeech {
  const parts = [
    noise(0.2, () => 1e-4),
    noise(1, () => 0.5),
    noise(tailSeconds, tail),
    noise(0.3, () => 1e-4),
  ]
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    audio.set(p, at)
    at += p.length
  }
  // The corpora's own bounds run to 40 dB below the peak.
  const below40 = tailSeconds > 0 ? 1.2 + (40 - 15) / 40 : 1.2
  return {
    name: 'clip',
    language: 'en',
    text: '',
    durationSeconds: audio.length / SR,
    speechStart: 0.2,
    speechEnd: Math.min(below40, 1.2 + tailSeconds),
    audio,
  } as LoadedRealSpeech
}

describe('speakerEnd', () => {
  it(`ends a turn ${TURN_END_BELOW_PEAK_DB} dB below the loudest frame: a reverberant tail is cut, a dry end kept`, () => {
    // A room's decay: 15 dB down at once, then 40 dB per second.
    const reverb = clip((t) => 0.5 * 10 ** (-(15 + 40 * t) / 20), 1)
    const end = speakerEnd(reverb)
    expect(end).toBeGreaterThan(1.2 + (TURN_END_BELOW_PEAK_DB - 15) / 40 - 0.03)
    expect(end).toBeLessThan(1.2 + (TURN_END_BELOW_PEAK_DB - 15) / 40 + 0.03)
    expect(end).toBeLessThan(reverb.speechEnd - 0.2)
    const dry = clip(() => 0, 0)
    expect(speakerEnd(dry)).toBeCloseTo(dry.speechEnd, 2)
  })

  it("gives a built conversation's turns the end of each clip's speaker, when asked", () => {
    const a = clip((t) => 0.5 * 10 ** (-(15 + 40 * t) / 20), 1)
    const b = { ...clip(() => 0, 0), name: 'dry' }
    const clips = (c: LoadedRealSpeech, name: string) =>
      [1, 2, 3, 4].map((i) => ({ ...c, name: `${name}${i}` }))
    const conv = realConversation(
      { a: clips(a, 'a'), b: clips(b, 'b') },
      { turns: 4, seed: 3, turnEnds: 'speaker' },
    )
    expect(new Set(conv.turns.map((t) => t.speaker))).toEqual(new Set(['a', 'b']))
    for (const t of conv.turns) {
      const c = t.speaker === 'a' ? a : b
      expect(t.end - t.start, t.name).toBeCloseTo(speakerEnd(c) - c.speechStart, 2)
    }
    const bySpeech = realConversation({ a: clips(a, 'a'), b: clips(b, 'b') }, { turns: 4, seed: 3 })
    for (const t of bySpeech.turns) {
      const c = t.speaker === 'a' ? a : b
      expect(t.end - t.start, t.name).toBeCloseTo(c.speechEnd - c.speechStart, 2)
    }
  })
})
