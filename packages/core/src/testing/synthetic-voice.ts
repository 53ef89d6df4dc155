import type { Word } from '../types.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/**
 * A stand-in for speech in unit tests: each word of a small vocabulary is a tone burst of
 * its own pitch, and {@link SyntheticVoice.recognize} hears the words back with their times,
 * much as a recogniser would (a word cut short at the end of a buffer is not heard).
 * It lets the streaming logic be tested end to end, fast and deterministically; real speech
 * and real models are for the adapters' tests.
 */
export interface SyntheticVoiceOptions {
  vocabulary: readonly string[]
  wordMs?: number
  gapMs?: number
  amplitude?: number
  sampleRate?: number
}

export interface SynthesizedSpeech {
  audio: Float32Array
  words: Word[]
  text: string
}

const BASE_HZ = 300
const STEP_HZ = 70

export class SyntheticVoice {
  readonly vocabulary: readonly string[]
  readonly wordMs: number
  readonly gapMs: number
  readonly amplitude: number
  readonly sampleRate: number

  constructor(options: SyntheticVoiceOptions) {
    if (options.vocabulary.length === 0 || options.vocabulary.length > 100) {
      throw new RangeError('SyntheticVoice needs a vocabulary of 1 to 100 words')
    }
    this.vocabulary = options.vocabulary
    this.wordMs = options.wordMs ?? 240
    this.gapMs = options.gapMs ?? 80
    this.amplitude = options.amplitude ?? 0.3
    this.sampleRate = options.sampleRate ?? WHISPER_SAMPLE_RATE
  }

  frequencyOf(index: number): number {
    return BASE_HZ + STEP_HZ * index
  }

  /** Speaks words (which must be in the vocabulary), with `leadMs`/`trailMs` of silence around. */
  speak(text: string | readonly string[], leadMs = 0, trailMs = 0): SynthesizedSpeech {
    const list = typeof text === 'string' ? text.split(/\s+/).filter(Boolean) : [...text]
    const sr = this.sampleRate
    const wordSamples = Math.round((this.wordMs * sr) / 1000)
    const gapSamples = Math.round((this.gapMs * sr) / 1000)
    const lead = Math.round((leadMs * sr) / 1000)
    const total = lead + list.length * (wordSamples + gapSamples) + Math.round((trailMs * sr) / 1000)
    const audio = new Float32Array(total)
    const words: Word[] = []
    let p = lead
    for (const w of list) {
      const index = this.vocabulary.indexOf(w.toLowerCase())
      if (index < 0) throw new RangeError(`"${w}" is not in the vocabulary`)
      const f = this.frequencyOf(index)
      const ramp = Math.round(sr * 0.005)
      for (let i = 0; i < wordSamples; i++) {
        const env = Math.min(1, i / ramp, (wordSamples - 1 - i) / ramp)
        audio[p + i] = this.amplitude * env * Math.sin((2 * Math.PI * f * i) / sr)
      }
      words.push({ start: p / sr, end: (p + wordSamples) / sr, text: w.toLowerCase() })
      p += wordSamples + gapSamples
    }
    return { audio, words, text: list.join(' ').toLowerCase() }
  }

  /** Hears the words in audio at this voice's rate (times in seconds from its start). */
  recognize(audio: Float32Array): Word[] {
    const sr = this.sampleRate
    const hop = Math.round(sr * 0.01)
    const threshold = (this.amplitude * this.amplitude) / 8
    const words: Word[] = []
    let burstStart = -1
    const minBurst = Math.round((this.wordMs * sr * 0.6) / 1000)
    const close = (end: number) => {
      if (burstStart < 0) return
      const start = burstStart
      burstStart = -1
      if (end - start < minBurst) return
      const text = this.#classify(audio.subarray(start, end))
      words.push({ start: start / sr, end: end / sr, text })
    }
    for (let s = 0; s + hop <= audio.length; s += hop) {
      let e = 0
      for (let i = s; i < s + hop; i++) e += audio[i]! * audio[i]!
      const loud = e / hop > threshold
      if (loud && burstStart < 0) burstStart = s
      if (!loud) close(s)
    }
    close(audio.length - (audio.length % hop))
    return words
  }

  #classify(burst: Float32Array): string {
    let best = 0
    let bestPower = -1
    for (let k = 0; k < this.vocabulary.length; k++) {
      const w = (2 * Math.PI * this.frequencyOf(k)) / this.sampleRate
      const coeff = 2 * Math.cos(w)
      let s1 = 0
      let s2 = 0
      for (let i = 0; i < burst.length; i++) {
        const s0 = burst[i]! + coeff * s1 - s2
        s2 = s1
        s1 = s0
      }
      const power = s1 * s1 + s2 * s2 - coeff * s1 * s2
      if (power > bestPower) {
        bestPower = power
        best = k
      }
    }
    return this.vocabulary[best]!
  }
}
