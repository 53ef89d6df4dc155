import { existsSync } from 'node:fs'
import { type VadBackend, type VadSegmenterOptions, validateVadFrame, WsError, withDefaults } from '@ws/core'
import { SILERO_MODEL_PATH } from './paths.js'
import { type SileroWorker, sileroWorker } from './worker-client.js'

export { SILERO_MODEL_PATH }

export interface SileroVadOptions {
  /** Probability at or above which a frame is speech (default 0.5, Silero's own). */
  threshold?: number
  /**
   * Once in speech, frames stay speech until the probability falls below this (default: the
   * threshold itself, no hysteresis; the segmenter's hangover does the smoothing. Silero's own
   * scripts use threshold − 0.15, which here kept a 0.3 s pause in 20 dB noise as speech).
   */
  negativeThreshold?: number
  /** 16000 (default; 512-sample frames) or 8000 (256-sample frames). */
  sampleRate?: number
  /** Another Silero v5 ONNX file. */
  modelPath?: string
}

export const DEFAULT_SILERO_VAD_OPTIONS = { threshold: 0.5, sampleRate: 16_000 } as const

/**
 * Segmenter settings measured on the speech fixtures (clean, 20 dB SNR pink noise, noise
 * alone): with a 150 ms hangover every pause of 0.3 s separates utterances and boundaries
 * land within 0.05 s (clean) and 0.12 s (noisy) of the truth plus padding; 200 ms merges a
 * 0.3 s pause in noise.
 */
export const SILERO_SEGMENTER_DEFAULTS: VadSegmenterOptions = {
  minSpeechMs: 150,
  hangoverMs: 150,
  prePaddingMs: 200,
  postPaddingMs: 100,
}

/**
 * Silero VAD v5 on onnxruntime-web's WebAssembly build, in a worker thread shared by every
 * instance of the process: 512-sample frames at 16 kHz (256 at 8 kHz), each fed with the
 * last 64 (32) samples of the frame before, as v5 expects, and the model's recurrent state
 * carried from frame to frame (both kept in the worker). The event loop never runs the
 * model; calls are answered in order, so they never interleave and corrupt the state.
 * Create with {@link SileroVad.create}.
 */
export class SileroVad implements VadBackend {
  readonly name = 'silero'
  readonly sampleRate: number
  readonly frameSamples: number
  readonly contextSamples: number
  readonly threshold: number
  readonly negativeThreshold: number
  readonly segmenterDefaults = SILERO_SEGMENTER_DEFAULTS
  readonly #worker: SileroWorker
  readonly #id: number
  #open = true
  #closing: Promise<void> | undefined
  #triggered = false
  #lastProbability = 0

  private constructor(
    worker: SileroWorker,
    id: number,
    o: Required<Pick<SileroVadOptions, 'threshold' | 'sampleRate'>> & SileroVadOptions,
  ) {
    this.#worker = worker
    this.#id = id
    this.sampleRate = o.sampleRate
    this.frameSamples = o.sampleRate === 16_000 ? 512 : 256
    this.contextSamples = o.sampleRate === 16_000 ? 64 : 32
    this.threshold = o.threshold
    this.negativeThreshold = o.negativeThreshold ?? o.threshold
  }

  static async create(options: SileroVadOptions = {}): Promise<SileroVad> {
    const o = withDefaults(DEFAULT_SILERO_VAD_OPTIONS, options)
    if (o.sampleRate !== 16_000 && o.sampleRate !== 8000) {
      throw new WsError('unsupported_sample_rate', `Silero VAD takes 16000 or 8000 Hz, got ${o.sampleRate}`)
    }
    if (!(o.threshold > 0 && o.threshold < 1))
      throw new WsError('invalid_config', `threshold must be in (0, 1), got ${o.threshold}`)
    if (
      o.negativeThreshold !== undefined &&
      !(o.negativeThreshold > 0 && o.negativeThreshold <= o.threshold)
    ) {
      throw new WsError(
        'invalid_config',
        `negativeThreshold must be in (0, threshold], got ${o.negativeThreshold}`,
      )
    }
    const modelPath = o.modelPath ?? SILERO_MODEL_PATH
    if (!existsSync(modelPath)) throw new WsError('model_not_found', `No Silero model at ${modelPath}`)
    const { worker, id } = sileroWorker()
    try {
      await worker.request({ op: 'open', id, modelPath, sampleRate: o.sampleRate })
    } catch (err) {
      throw new WsError('model_load_failed', `Could not load ${modelPath}: ${(err as Error).message}`, {
        cause: err,
      })
    }
    return new SileroVad(worker, id, o)
  }

  /** The probability of speech the last frame got. */
  get lastProbability(): number {
    return this.#lastProbability
  }

  /** The probability of speech in one frame (0..1); advances the model's state. */
  async speechProbability(frame: Int16Array | Float32Array): Promise<number> {
    if (!this.#open) throw new WsError('closed', 'The VAD is closed')
    validateVadFrame(frame, this.frameSamples)
    const samples =
      frame instanceof Int16Array ? Float32Array.from(frame, (x) => x / 32768) : Float32Array.from(frame)
    const p = (await this.#worker.request({ op: 'run', id: this.#id, frame: samples })) as number
    this.#lastProbability = p
    return p
  }

  /** Speech or not, with hysteresis between `threshold` and `negativeThreshold`. */
  async isSpeech(frame: Int16Array | Float32Array): Promise<boolean> {
    const p = await this.speechProbability(frame)
    if (p >= this.threshold) this.#triggered = true
    else if (p < this.negativeThreshold) this.#triggered = false
    return this.#triggered
  }

  /** Clears the model's state and context (frames already sent are answered first). */
  reset(): void {
    this.#triggered = false
    this.#lastProbability = 0
    if (this.#open) void this.#worker.request({ op: 'reset', id: this.#id }).catch(() => {})
  }

  /** Releases the model after the frames already sent are answered. Idempotent. */
  close(): Promise<void> {
    this.#open = false
    this.#closing ??= this.#worker.request({ op: 'close', id: this.#id }).then(
      () => {},
      () => {}, // a worker that died holds nothing to release
    )
    return this.#closing
  }
}

/** Makes a Silero VAD (the factory the server uses for `VAD_BACKEND=silero`). */
export function createVad(options: SileroVadOptions = {}): Promise<SileroVad> {
  return SileroVad.create(options)
}
