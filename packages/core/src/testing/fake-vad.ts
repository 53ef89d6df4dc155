import type { VadBackend } from '../vad.js'
import { validateVadFrame } from '../vad.js'

export interface EnergyVadOptions {
  sampleRate?: number
  /** Default 480 (30 ms at 16 kHz). */
  frameSamples?: number
  /** RMS above which a frame is speech (default 0.02). */
  threshold?: number
  /** Answer with promises, as model-based VADs do (default false). */
  async?: boolean
}

/**
 * A VAD for unit tests: a frame is speech when its RMS is above a threshold. It keeps the
 * frame contract (typed errors for bad frames) and finds the synthetic voice's words.
 */
export class EnergyVad implements VadBackend {
  readonly name = 'energy'
  readonly sampleRate: number
  readonly frameSamples: number
  readonly threshold: number
  readonly #async: boolean
  frames = 0

  constructor(options: EnergyVadOptions = {}) {
    this.sampleRate = options.sampleRate ?? 16_000
    this.frameSamples = options.frameSamples ?? 480
    this.threshold = options.threshold ?? 0.02
    this.#async = options.async ?? false
  }

  isSpeech(frame: Int16Array | Float32Array): boolean | Promise<boolean> {
    validateVadFrame(frame, this.frameSamples)
    this.frames++
    const scale = frame instanceof Int16Array ? 1 / 32768 : 1
    let sum = 0
    for (let i = 0; i < frame.length; i++) {
      const s = frame[i]! * scale
      sum += s * s
    }
    const speech = Math.sqrt(sum / frame.length) > this.threshold
    return this.#async ? Promise.resolve(speech) : speech
  }

  reset(): void {
    this.frames = 0
  }
}
