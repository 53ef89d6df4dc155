import { describe, expect, it } from 'vitest'
import type { TranscribeOptions, WhisperBackend } from '../backend.js'
import { FakeBackend } from '../testing/fake-backend.js'
import { SyntheticVoice } from '../testing/synthetic-voice.js'
import { TEST_VOCABULARY } from '../testing/vocabulary.js'
import { wordErrorRate } from '../text/wer.js'
import { createStrategy } from './strategy.js'

const voice = new SyntheticVoice({ vocabulary: TEST_VOCABULARY })

async function backend() {
  const b = new FakeBackend({ voice })
  await b.loadModel('fake')
  return b
}

describe('boundary strategies', () => {
  const first = voice.speak('the quick brown fox jumps', 0, 200)
  const second = voice.speak('over the lazy dog', 100, 200)

  const third = voice.speak('and runs away', 100, 200)

  it('prompt: passes the previous final as the initial prompt, its last maxPromptChars', async () => {
    const b = await backend()
    const s = createStrategy('prompt', { backend: b, maxPromptChars: 12 })
    const one = await s.utterance().final(first.audio)
    expect(one.text).toBe('the quick brown fox jumps')
    expect(b.calls[0]!.options.initialPrompt).toBeUndefined()
    const two = await s.utterance().final(second.audio)
    expect(b.calls[1]!.options.initialPrompt).toBe('fox jumps')
    expect(two.text).toBe('over the lazy dog')
    await s.utterance().final(third.audio)
    expect(b.calls[2]!.options.initialPrompt).toBe('lazy dog')
  })

  it('context: hears the previous utterances again and drops exactly their words, with times of the new audio', async () => {
    const b = await backend()
    const s = createStrategy('context', { backend: b, wordTimestamps: true })
    await s.utterance().final(first.audio)
    const two = await s.utterance().final(second.audio)
    // The backend heard the whole first utterance in front of the second ...
    expect(b.calls[1]!.samples).toBe(first.audio.length + second.audio.length)
    expect(b.calls[1]!.options.initialPrompt).toBeUndefined()
    // ... and none of it comes back, while every new word does, at its own time.
    expect(two.text).toBe('over the lazy dog')
    const words = two.segments.flatMap((seg) => seg.words ?? [])
    expect(words.map((w) => w.text)).toEqual(['over', 'the', 'lazy', 'dog'])
    words.forEach((w, i) => {
      expect(w.start).toBeCloseTo(second.words[i]!.start, 1)
      expect(w.end).toBeCloseTo(second.words[i]!.end, 1)
    })
    // The next final hears both.
    expect((await s.utterance().final(third.audio)).text).toBe('and runs away')
    expect(b.calls[2]!.samples).toBe(first.audio.length + second.audio.length + third.audio.length)
  })

  it('context: carries whole utterances only, at most contextMs of them and what fits in the window', async () => {
    const b = await backend()
    const ms = (a: Float32Array) => (a.length / 16_000) * 1000
    const s = createStrategy('context', { backend: b, contextMs: ms(second.audio) + 10 })
    await s.utterance().final(first.audio)
    await s.utterance().final(second.audio)
    expect((await s.utterance().final(third.audio)).text).toBe('and runs away')
    expect(b.calls.map((c) => c.samples)).toEqual([
      first.audio.length,
      second.audio.length, // the first is longer than contextMs
      second.audio.length + third.audio.length,
    ])
    // An utterance that fills the window hears none.
    const long = new Float32Array(29 * 16_000)
    await s.utterance().final(long)
    expect(b.calls.at(-1)!.samples).toBe(long.length)
  })

  it('context: asks for word times only when they are to be returned', async () => {
    const b = await backend()
    const s = createStrategy('context', { backend: b })
    await s.utterance().final(first.audio)
    const two = await s.utterance().final(second.audio)
    expect(b.calls[1]!.options.wordTimestamps).toBe(false)
    expect(two.segments.every((seg) => seg.words === undefined)).toBe(true)
    expect(two.text).toBe('over the lazy dog')
  })

  it('hybrid: the carried utterances, and the text before them as the prompt', async () => {
    const b = await backend()
    const s = createStrategy('hybrid', { backend: b, contextMs: (second.audio.length / 16_000) * 1000 + 10 })
    await s.utterance().final(first.audio)
    expect((await s.utterance().final(second.audio)).text).toBe('over the lazy dog')
    // The first is too long to carry: it is the prompt.
    expect(b.calls[1]!.options.initialPrompt).toBe('the quick brown fox jumps')
    expect(b.calls[1]!.samples).toBe(second.audio.length)
    expect((await s.utterance().final(third.audio)).text).toBe('and runs away')
    expect(b.calls[2]!.options.initialPrompt).toBe('the quick brown fox jumps')
    expect(b.calls[2]!.samples).toBe(second.audio.length + third.audio.length)
  })

  it('partials do not change what the next utterance is given', async () => {
    const b = await backend()
    const s = createStrategy('hybrid', { backend: b })
    const u = s.utterance()
    await u.partial(first.audio.subarray(0, 8000))
    await u.final(first.audio)
    await s.utterance().partial(second.audio)
    expect(b.calls[2]!.options.initialPrompt).toBe('the quick brown fox jumps')
  })
})

describe('a final that comes back empty with what was carried', () => {
  // Whisper sometimes answers a prompt (or prepended context) with no text at all: real
  // telephone speech, "press 0 to reach an operator" prompted with the final before it.
  const speech = new Float32Array(24_000).fill(0.1)
  const silentWhenCarried = () => {
    const calls: TranscribeOptions[] = []
    const b: WhisperBackend = {
      name: 'silent-when-prompted',
      loadModel: async () => {},
      close: async () => {},
      transcribe: async (audio, _sr, options = {}) => {
        calls.push(options)
        const carried = options.initialPrompt || audio.length > speech.length
        const seconds = audio.length / 16_000
        const segments = carried ? [] : [{ start: 0, end: seconds, text: 'press 0 to reach an operator' }]
        return { text: segments.map((x) => x.text).join(' '), segments, language: 'en', processingTimeMs: 1 }
      },
    }
    return { b, calls }
  }

  for (const name of ['prompt', 'context', 'hybrid'] as const) {
    it(`${name}: is decoded again on its own audio, and its time counted`, async () => {
      const { b, calls } = silentWhenCarried()
      const s = createStrategy(name, { backend: b })
      await s.utterance().final(speech)
      expect(calls).toHaveLength(1)
      const f = await s.utterance().final(speech)
      expect(calls).toHaveLength(3)
      expect(calls[2]!.initialPrompt).toBeUndefined()
      expect(f.text).toBe('press 0 to reach an operator')
      expect(f.processingTimeMs).toBe(2)
    })
  }

  it('context: a final that heard none of the carried words is decoded again without them', async () => {
    // Real telephone speech, whisper.cpp tiny.en: after "…is currently active", the decode
    // skipped the carried audio and "press 0" with it, and answered "to reach an operator".
    const sizes: number[] = []
    let aloneEmpty = false
    const b: WhisperBackend = {
      name: 'skips-the-context',
      loadModel: async () => {},
      close: async () => {},
      transcribe: async (audio) => {
        sizes.push(audio.length)
        const carried = audio.length > speech.length
        const first = sizes.length === 1
        const text = first ? 'is currently active.' : carried ? 'to reach' : 'press 0 to reach'
        const start = carried ? 1.82 : 0.1
        const segments = aloneEmpty && !carried && !first ? [] : [{ start, end: start + 1, text }]
        return { text, segments, language: 'en', processingTimeMs: 1 }
      },
    }
    const s = createStrategy('context', { backend: b })
    await s.utterance().final(speech)
    const f = await s.utterance().final(speech)
    expect(sizes).toEqual([speech.length, 2 * speech.length, speech.length])
    expect(f.text).toBe('press 0 to reach')
    expect(f.processingTimeMs).toBe(2)
    // So is a prompted one (the prompt holds the text before the carried audio, not its own).
    sizes.length = 0
    const h = createStrategy('hybrid', { backend: b })
    await h.utterance().final(speech)
    expect((await h.utterance().final(speech)).text).toBe('press 0 to reach')
    // A second answer that is empty does not replace the first, and is not asked a third time.
    sizes.length = 0
    const c = createStrategy('context', { backend: b })
    await c.utterance().final(speech)
    aloneEmpty = true
    const kept = await c.utterance().final(speech)
    expect(kept.text).toBe('to reach')
    expect(sizes).toEqual([speech.length, 2 * speech.length, speech.length])
    expect(kept.processingTimeMs).toBe(2)
  })

  it('a partial (a preview) is not decoded again', async () => {
    const { b, calls } = silentWhenCarried()
    const s = createStrategy('prompt', { backend: b })
    await s.utterance().final(speech)
    expect((await s.utterance().partial(speech)).text).toBe('')
    expect(calls).toHaveLength(2)
  })
})

describe('agreement strategy', () => {
  it('commits stable words while the utterance grows and loses nothing at the final', async () => {
    const b = await backend()
    const s = createStrategy('agreement', { backend: b })
    const speech = voice.speak('the quick brown fox jumps over the lazy dog and then runs away', 0, 300)
    const u = s.utterance()
    const stables: string[] = []
    for (let end = 8000; end < speech.audio.length; end += 8000) {
      const p = await u.partial(speech.audio.subarray(0, end))
      stables.push(p.stable)
    }
    // Stable text only grows.
    for (let i = 1; i < stables.length; i++) expect(stables[i]!.startsWith(stables[i - 1]!)).toBe(true)
    expect(stables[stables.length - 1]!.split(' ').length).toBeGreaterThan(5)
    const final = await u.final(speech.audio)
    expect(wordErrorRate(speech.text, final.text).wer).toBe(0)
    expect(final.unstable).toBe('')
    // The next utterance hears this one again first (its text cut off), and is prompted with
    // the text before it; an utterance too long to carry is the prompt.
    const next = voice.speak('into the forest')
    expect((await s.utterance().final(next.audio)).text).toBe('into the forest')
    expect(b.calls.at(-1)!.samples).toBe(speech.audio.length + next.audio.length)
    expect(b.calls.at(-1)!.options.initialPrompt).toBeUndefined()
    const short = createStrategy('agreement', { backend: b, contextMs: 1000 })
    await short.utterance().final(speech.audio)
    await short.utterance().final(next.audio)
    expect(b.calls.at(-1)!.samples).toBe(next.audio.length)
    expect(b.calls.at(-1)!.options.initialPrompt).toContain('runs away')
  })

  it('decodes every step after an utterance’s first as a final (its words get committed), busy when the engine is contended', async () => {
    const b = await backend()
    const s = createStrategy('agreement', { backend: b })
    const speech = voice.speak('the quick brown fox', 0, 300)
    const u = s.utterance()
    // The first step is shown, not agreed on: nothing is committed from the reduced window.
    const first = await u.partial(speech.audio.subarray(0, 8000))
    expect([first.stable, first.unstable.length > 0]).toEqual(['', true])
    await u.partial(speech.audio.subarray(0, 12000))
    await u.partial(speech.audio, undefined, { busy: true })
    const f = await u.final(speech.audio)
    // An utterance with no partial: its final is decoded as a final.
    await s.utterance().final(speech.audio)
    expect(
      b.calls.map((c) => [c.options.live ?? false, c.options.busy ?? false, c.options.preview ?? false]),
    ).toEqual([
      [false, false, true],
      [true, false, false],
      [true, true, false],
      [true, false, false],
      [true, false, false],
    ])
    expect(f.text).toBe('the quick brown fox')
  })
})

describe('a busy final (the engine is contended)', () => {
  it('is asked of the backend as live and busy by every strategy; a lone final is live only', async () => {
    const speech = voice.speak('the quick brown fox', 0, 300)
    for (const name of ['prompt', 'context', 'hybrid', 'agreement'] as const) {
      const b = await backend()
      const s = createStrategy(name, { backend: b })
      await s.utterance().final(speech.audio)
      const u = s.utterance()
      await u.partial(speech.audio)
      await u.final(speech.audio, undefined, { busy: true })
      const speculated = await s.utterance().speculate?.(speech.audio, undefined, { busy: true })
      const asked = b.calls.map((c) => [
        c.options.live ?? false,
        c.options.busy ?? false,
        c.options.preview ?? false,
      ])
      expect(asked.slice(0, 3), name).toEqual([
        [true, false, false],
        // A partial is a preview (for `agreement`, whose later partials commit words, the first).
        [false, false, true],
        [true, true, false],
      ])
      if (speculated) expect(asked[3], name).toEqual([true, true, false])
      else expect(name).toBe('agreement') // it has no speculative final
    }
  })
})
