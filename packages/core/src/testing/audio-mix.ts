import { resample } from '../audio/resample.js'
import type { SpeechRegion } from '../vad/detect.js'
import type { LoadedSpeechFixture } from './fixtures.js'

/**
 * Builds test audio for VADs: speech fixtures one after another with known silences between
 * them, and where the speech truly is. A negative gap starts the next speech before the last
 * one ends (overlapping speech): mix with `mix: 'add'` then, or the later clip overwrites the
 * earlier one's end (`replace`, the default: each clip's own padding replaces the tail before).
 */
export function composeUtterances(
  fixtures: readonly LoadedSpeechFixture[],
  gapsSeconds: readonly number[],
  options: { leadSeconds?: number; trailSeconds?: number; sampleRate?: number; mix?: 'replace' | 'add' } = {},
): { audio: Float32Array; utterances: SpeechRegion[] } {
  const sr = options.sampleRate ?? 16_000
  const lead = options.leadSeconds ?? 1
  const trail = options.trailSeconds ?? 1
  const parts: { at: number; audio: Float32Array }[] = []
  const utterances: SpeechRegion[] = []
  // Each fixture's own padding is silence too: place the speech, then the gap.
  let t = lead
  fixtures.forEach((f, i) => {
    const at = Math.round((t - f.speechStart) * sr)
    parts.push({ at, audio: f.audio })
    utterances.push({ start: at / sr + f.speechStart, end: at / sr + f.speechEnd })
    t = at / sr + f.speechEnd + (i < fixtures.length - 1 ? gapsSeconds[i % gapsSeconds.length]! : trail)
  })
  const audio = new Float32Array(Math.ceil(t * sr))
  for (const p of parts) {
    const clip = p.audio.subarray(0, audio.length - p.at)
    if (options.mix === 'add') for (let i = 0; i < clip.length; i++) audio[p.at + i]! += clip[i]!
    else audio.set(clip, p.at)
  }
  return { audio, utterances }
}

/** Seeded pink noise (−3 dB/octave, Paul Kellet's filter), RMS 1 before scaling. */
export function pinkNoise(samples: number, seed = 1): Float32Array {
  let x = seed >>> 0 || 1
  const white = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2147483648 - 1
  }
  const out = new Float32Array(samples)
  let b0 = 0
  let b1 = 0
  let b2 = 0
  let b3 = 0
  let b4 = 0
  let b5 = 0
  let b6 = 0
  let sum = 0
  for (let i = 0; i < samples; i++) {
    const w = white()
    b0 = 0.99886 * b0 + w * 0.0555179
    b1 = 0.99332 * b1 + w * 0.0750759
    b2 = 0.969 * b2 + w * 0.153852
    b3 = 0.8665 * b3 + w * 0.3104856
    b4 = 0.55 * b4 + w * 0.5329522
    b5 = -0.7616 * b5 - w * 0.016898
    const v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362
    b6 = w * 0.115926
    out[i] = v
    sum += v * v
  }
  const scale = 1 / Math.sqrt(sum / Math.max(1, samples))
  for (let i = 0; i < samples; i++) out[i]! *= scale
  return out
}

/** RMS of the samples inside `regions` (seconds), or of all samples without regions. */
export function speechRms(
  audio: Float32Array,
  regions?: readonly SpeechRegion[],
  sampleRate = 16_000,
): number {
  let sum = 0
  let n = 0
  const ranges = regions?.map(
    (r) => [Math.floor(r.start * sampleRate), Math.ceil(r.end * sampleRate)] as const,
  ) ?? [[0, audio.length] as const]
  for (const [a, b] of ranges) {
    for (let i = Math.max(0, a); i < Math.min(audio.length, b); i++) {
      sum += audio[i]! * audio[i]!
      n++
    }
  }
  return n === 0 ? 0 : Math.sqrt(sum / n)
}

/**
 * Adds noise so that speech (its RMS over `regions`) stands `snrDb` above it. Returns the
 * mix and the noise alone at the same level.
 */
export function mixAtSnr(
  audio: Float32Array,
  snrDb: number,
  options: { regions?: readonly SpeechRegion[]; seed?: number; sampleRate?: number } = {},
): { mixed: Float32Array; noise: Float32Array } {
  const level = speechRms(audio, options.regions, options.sampleRate) / 10 ** (snrDb / 20)
  const noise = pinkNoise(audio.length, options.seed)
  for (let i = 0; i < noise.length; i++) noise[i]! *= level
  const mixed = new Float32Array(audio.length)
  for (let i = 0; i < audio.length; i++) mixed[i] = audio[i]! + noise[i]!
  return { mixed, noise }
}

/**
 * A 16 kHz recording as a telephone line carries it: resampled to 8 kHz and back, so nothing
 * above 4 kHz is left (the resampler adds no delay: times in the clip stay where they were).
 * For phone calls built from studio voices.
 */
export function overTelephone<T extends { audio: Float32Array }>(clip: T): T {
  return { ...clip, audio: resample(resample(clip.audio, 16_000, 8_000), 8_000, 16_000) }
}

export interface VadTestCorpusOptions {
  /** Silences between utterances, cycled (default 0.3 to 2 s). */
  gapsSeconds?: readonly number[]
  /** Noise level for the noisy copy (default 20 dB SNR). */
  snrDb?: number
  seed?: number
  /** Length of the silence and noise-only clips (default 10 s). */
  nonSpeechSeconds?: number
}

/**
 * The audio a VAD is judged on: the fixtures spoken one after another with known silences,
 * clean and with pink noise at `snrDb`, plus silence alone and that noise alone — shaped for
 * {@link vadConformance}'s `speech` and `nonSpeech`.
 */
export function vadTestCorpus(fixtures: readonly LoadedSpeechFixture[], options: VadTestCorpusOptions = {}) {
  const gaps = options.gapsSeconds ?? [0.3, 2, 0.7, 1.2, 0.5, 1.5, 0.3, 1, 0.8]
  const snrDb = options.snrDb ?? 20
  const seconds = options.nonSpeechSeconds ?? 10
  const clean = composeUtterances(fixtures, gaps)
  const noisy = mixAtSnr(clean.audio, snrDb, { regions: clean.utterances, seed: options.seed ?? 7 })
  return {
    clean,
    noisy,
    speech: [
      { name: 'clean', audio: clean.audio, utterances: clean.utterances },
      { name: `noisy (${snrDb} dB SNR)`, audio: noisy.mixed, utterances: clean.utterances },
    ],
    nonSpeech: [
      { name: `${seconds} s of silence`, audio: new Float32Array(seconds * 16_000) },
      { name: `${seconds} s of noise`, audio: noisy.noise.subarray(0, seconds * 16_000) },
    ],
  }
}
