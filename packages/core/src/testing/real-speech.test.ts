import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { speechRms } from './audio-mix.js'
import {
  hasRealSpeech,
  type LoadedRealSpeech,
  REAL_SPEECH_CORPORA,
  type RealSpeechCorpus,
  realSpeechDir,
  realSpeechFixtures,
} from './real-speech.js'

// The corpora are built by `node scripts/real-speech.mjs` (WS_SETUP_REAL_SPEECH=1 in
// scripts/setup.sh; scripts/test.sh sets it): without them these checks are skipped.

const SR = 16_000
const CLIPS: { corpus: RealSpeechCorpus; language: string; phone?: RealSpeechCorpus }[] = [
  { corpus: 'real-en', language: 'en', phone: 'real-en-8k' },
  { corpus: 'real-es', language: 'es', phone: 'real-es-8k' },
  { corpus: 'real-nl', language: 'nl' },
]
const cache = new Map<RealSpeechCorpus, LoadedRealSpeech[]>()
const load = (corpus: RealSpeechCorpus) => {
  if (!cache.has(corpus)) cache.set(corpus, realSpeechFixtures(corpus))
  return cache.get(corpus)!
}
const rms = (f: LoadedRealSpeech, regions: { start: number; end: number }[]) =>
  speechRms(f.audio, regions, SR)
/** The parts of the file outside `regions` (sorted), at least 50 ms long. */
const outside = (duration: number, regions: { start: number; end: number }[]) => {
  const gaps: { start: number; end: number }[] = []
  let t = 0
  for (const r of regions) {
    if (r.start - t > 0.05) gaps.push({ start: t, end: r.start })
    t = r.end
  }
  if (duration - t > 0.05) gaps.push({ start: t, end: duration })
  return gaps
}

describe('real speech: the loader', () => {
  it('names the setup command when a corpus is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ws-real-speech-test-'))
    try {
      const env = { WS_CACHE_DIR: empty }
      expect(realSpeechDir('real-en', env)).toBe(join(empty, 'real-speech', 'real-en'))
      expect(hasRealSpeech('real-en', env)).toBe(false)
      expect(() => realSpeechFixtures('real-en', undefined, env)).toThrow(/scripts\/real-speech\.mjs/)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('finds the cache as @ws/models does', () => {
    expect(realSpeechDir('real-nl', { XDG_CACHE_HOME: '/x' })).toBe(
      join('/x', 'whisper-stream', 'real-speech', 'real-nl'),
    )
  })
})

for (const { corpus, language, phone } of CLIPS) {
  describe.skipIf(!hasRealSpeech(corpus))(`real speech: ${corpus}`, () => {
    it('has 60 to 100 clips of real text, 1.5 to 25 s of speech each', () => {
      const clips = load(corpus)
      expect(clips.length).toBeGreaterThanOrEqual(60)
      expect(clips.length).toBeLessThanOrEqual(100)
      expect(new Set(clips.map((f) => f.name)).size).toBe(clips.length)
      for (const f of clips) {
        expect(f.language, f.name).toBe(language)
        expect(f.text.trim().length, f.name).toBeGreaterThan(0)
        expect(f.text, f.name).not.toMatch(/[[\]<>()]/)
        expect(f.text.match(/\p{L}+/gu)?.length ?? 0, f.name).toBeGreaterThanOrEqual(2)
        expect(f.voice, f.name).toBeTruthy()
        expect(f.source, f.name).toBeTruthy()
        expect(f.speechEnd - f.speechStart, f.name).toBeGreaterThanOrEqual(1.5)
        expect(f.speechEnd - f.speechStart, f.name).toBeLessThanOrEqual(25)
      }
    })

    it('is 16 kHz audio whose speech lies where the manifest says', () => {
      for (const f of load(corpus)) {
        expect(Math.abs(f.audio.length / SR - f.durationSeconds), f.name).toBeLessThan(0.01)
        expect(f.speechStart, f.name).toBeGreaterThanOrEqual(0)
        expect(f.speechEnd, f.name).toBeLessThanOrEqual(f.durationSeconds + 1e-3)
        const speech = rms(f, [{ start: f.speechStart, end: f.speechEnd }])
        expect(speech, f.name).toBeGreaterThan(0.005)
        const rest = outside(f.durationSeconds, [{ start: f.speechStart, end: f.speechEnd }])
        if (rest.length > 0) expect(rms(f, rest), f.name).toBeLessThan(speech / 4)
      }
    })

    if (phone)
      it.skipIf(!hasRealSpeech(phone))('keeps the same clips at 8 kHz', () => {
        const originals = load(phone)
        const clips = load(corpus)
        expect(originals.map((f) => f.name)).toEqual(clips.map((f) => f.name))
        for (const [i, f] of originals.entries()) {
          expect(f.text).toBe(clips[i]!.text)
          expect(Math.abs(f.audio.length - clips[i]!.audio.length), f.name).toBeLessThan(SR * 0.01)
        }
      })
  })

  const long = `${corpus}-long` as RealSpeechCorpus
  describe.skipIf(!hasRealSpeech(long) || !hasRealSpeech(corpus))(`real speech: ${long}`, () => {
    it('holds a 30 s and a 2 min stream of the clips with 0.3 to 2.5 s pauses', () => {
      const streams = load(long)
      expect(streams.map((s) => s.name)).toEqual(['stream-30s', 'stream-2min'])
      const [short, two] = streams
      expect(short!.durationSeconds).toBeGreaterThan(20)
      expect(short!.durationSeconds).toBeLessThanOrEqual(30)
      expect(two!.durationSeconds).toBeGreaterThan(100)
      expect(two!.durationSeconds).toBeLessThanOrEqual(120)
      const clips = new Map(load(corpus).map((f) => [f.name, f]))
      for (const s of streams) {
        const segments = s.segments!
        expect(segments.length, s.name).toBeGreaterThanOrEqual(3)
        expect(s.language).toBe(language)
        expect(s.text).toBe(segments.map((x) => x.text).join(' '))
        expect(s.speechStart).toBe(segments[0]!.start)
        expect(s.speechEnd).toBe(segments.at(-1)!.end)
        expect(Math.abs(s.audio.length / SR - s.durationSeconds)).toBeLessThan(0.01)
        for (const [i, seg] of segments.entries()) {
          const clip = clips.get(seg.name)
          expect(clip, seg.name).toBeDefined()
          expect(seg.text).toBe(clip!.text)
          expect(seg.end - seg.start).toBeCloseTo(clip!.speechEnd - clip!.speechStart, 3)
          if (i > 0) {
            const pause = seg.start - segments[i - 1]!.end
            expect(pause).toBeGreaterThanOrEqual(0.3 - 1e-3)
            expect(pause).toBeLessThanOrEqual(2.5 + 1e-3)
          }
        }
        const speech = rms(s, segments)
        expect(speech).toBeGreaterThan(0.005)
        expect(rms(s, outside(s.durationSeconds, segments))).toBeLessThan(speech / 4)
      }
    })
  })
}

it('lists every corpus', () => {
  expect(REAL_SPEECH_CORPORA).toHaveLength(8)
})
