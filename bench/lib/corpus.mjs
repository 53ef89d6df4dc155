// The benchmark's inputs: speech fixtures (espeak-ng) joined by 0.3–2 s of silence, clean or
// with pink noise, the reference text and speech bounds from synthesis; and the real English
// streams (recordings of people, their text and speech bounds from the corpus's manifest).
import { fileURLToPath } from 'node:url'
import { composeUtterances, loadSpeechFixtures, mixAtSnr, realSpeechFixtures } from '@ws/core/testing'

/** The fixtures' sample rate. */
export const SR = 16_000
/** The repository's fixtures directory, with a trailing slash. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url))

/** The Harvard sentences (fixtures/speech/harvard-*). */
export function harvardFixtures(dir = FIXTURES) {
  return loadSpeechFixtures(`${dir}speech`, (f) => f.name.startsWith('harvard-'))
}

/** The fixtures joined by the gaps (cycled), with their utterances and reference text. */
export function compose(fixtures, gaps) {
  const { audio, utterances } = composeUtterances(fixtures, gaps, { leadSeconds: 0.5, trailSeconds: 1.5 })
  return {
    audio,
    utterances,
    texts: fixtures.map((f) => f.text),
    reference: fixtures.map((f) => f.text).join(' '),
  }
}

/** `sentences` of the Harvard fixtures (cycled, from `offset`), 0.3–2 s apart. */
export function corpus(harvard, sentences, offset = 0) {
  const fixtures = Array.from({ length: sentences }, (_, i) => harvard[(i + offset) % harvard.length])
  return compose(fixtures, [0.3, 0.8, 2.0, 1.2, 0.5])
}

/** At least `minutes` of every speech fixture (both voices), repeated as needed, 0.3–2 s apart. */
export function longCorpus(minutes, harvard = harvardFixtures(), dir = FIXTURES) {
  const all = [
    ...harvard,
    ...loadSpeechFixtures(`${dir}speech-slt`, () => true),
    ...loadSpeechFixtures(`${dir}wer`, () => true),
  ]
  const gaps = [0.3, 0.8, 2.0, 1.2, 0.5, 1.6, 0.4]
  const fixtures = []
  // Composing keeps each fixture's speech, not its own leading and trailing silence.
  for (let seconds = 0; seconds < minutes * 60; ) {
    const f = all[fixtures.length % all.length]
    seconds += f.speechEnd - f.speechStart + gaps[fixtures.length % gaps.length]
    fixtures.push(f)
  }
  return compose(fixtures, gaps)
}

/**
 * The streams of a real-speech corpus (`real-en-long`: read telephone prompts of real people,
 * 0.3–2.5 s apart; `real-es-long`, `real-nl-long`), each shaped as `compose` returns: audio,
 * utterances, texts and reference.
 */
export function realStreams(corpusName = 'real-en-long') {
  return realSpeechFixtures(corpusName).map((s) => {
    const texts = s.segments.map((x) => x.text)
    return {
      name: s.name,
      audio: s.audio,
      utterances: s.segments.map((x) => ({ start: x.start, end: x.end })),
      texts,
      reference: texts.join(' '),
    }
  })
}

/** The corpus's audio, clean or with pink noise at `noise` dB SNR over its speech. */
export function withNoise(c, noise) {
  if (noise === 'clean') return c.audio
  return mixAtSnr(c.audio, Number(noise), { regions: c.utterances, seed: 7 }).mixed
}
