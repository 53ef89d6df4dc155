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
  it('overlaps a new speaker with the last one when asked, mixing both: each turn keeps its span', () => {
    const a = clip(() => 0, 0)
    const clips = (name: string) => [1, 2, 3, 4, 5, 6].map((i) => ({ ...a, name: `${name}${i}` }))
    const voices = { a: clips('a'), b: clips('b') }
    const plain = realConversation(voices, { turns: 8, seed: 4 })
    const phone = realConversation(voices, { turns: 8, seed: 4, overlap: 1, overlapSeconds: [0.3, 0.4] })
    // The same speakers in the same order; every change of speaker overlaps by 0.3–0.4 s (at
    // most half the 1 s turn), a turn of the same speaker again does not.
    expect(phone.turns.map((t) => t.name)).toEqual(plain.turns.map((t) => t.name))
    let overlaps = 0
    for (const [i, t] of phone.turns.entries()) {
      expect(t.end - t.start).toBeCloseTo(1, 2)
      const prev = phone.turns[i - 1]
      if (!prev) continue
      if (prev.speaker === t.speaker) expect(t.start).toBeGreaterThan(prev.end)
      else {
        overlaps++
        expect(prev.end - t.start).toBeGreaterThanOrEqual(0.3 - 0.002)
        expect(prev.end - t.start).toBeLessThanOrEqual(0.4 + 0.002)
      }
    }
    expect(overlaps).toBeGreaterThan(2)
    // Both clips are heard in the overlap: louder there than either alone.
    const o = phone.turns.findIndex((t, i) => i > 0 && t.speaker !== phone.turns[i - 1]?.speaker)
    const mid = Math.round(((phone.turns[o]!.start + phone.turns[o - 1]!.end) / 2) * SR)
    const rms = (from: number) => {
      let sum = 0
      for (let i = from; i < from + 800; i++) sum += phone.audio[i]! ** 2
      return Math.sqrt(sum / 800)
    }
    expect(rms(mid - 400)).toBeGreaterThan(1.2 * rms(Math.round((phone.turns[o - 1]!.start + 0.2) * SR)))
  })
})
