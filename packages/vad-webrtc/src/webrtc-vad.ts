import createModule, { type FvadModule } from '@echogarden/fvad-wasm'
import { type VadBackend, type VadSegmenterOptions, validateVadFrame, WsError, withDefaults } from '@ws/core'

export interface WebRtcVadOptions {
  /** 8000, 16000 (default), 32000 or 48000 Hz. */
  sampleRate?: number
  /** 10, 20 or 30 (default) ms. */
  frameMs?: number
  /** 0 (least aggressive, most speech) to 3 (most aggressive; default). */
  aggressiveness?: number
}

export const DEFAULT_WEBRTC_VAD_OPTIONS = { sampleRate: 16_000, frameMs: 30, aggressiveness: 3 } as const

/**
 * WebRTC's decisions already run 0.07–0.1 s past the end of speech (its internal over-hang,
 * measured on the speech fixtures), so the segmenter's hangover and post-padding are shorter
 * than the core defaults: pauses of 0.3 s still separate utterances. A sweep of mode × frame
 * × hangover on the fixtures (clean, 20 dB SNR pink noise, noise alone) found 200 ms the
 * only hangover that neither merges 0.3 s pauses nor splits sentences in noise (mode 3, 30 ms).
 */
export const WEBRTC_SEGMENTER_DEFAULTS: VadSegmenterOptions = {
  minSpeechMs: 150,
  hangoverMs: 200,
  prePaddingMs: 200,
  postPaddingMs: 100,
}

const RATES = [8000, 16_000, 32_000, 48_000]
const FRAME_MS = [10, 20, 30]

let shared: Promise<FvadModule> | undefined

/**
 * The WebRTC voice activity detector (libfvad, compiled to WebAssembly), deciding speech for
 * frames of 10, 20 or 30 ms of 16-bit audio at 8, 16, 32 or 48 kHz. Decisions are synchronous
 * and take a few microseconds. Create with {@link WebRtcVad.create}.
 */
export class WebRtcVad implements VadBackend {
  readonly name = 'webrtc'
  readonly sampleRate: number
  readonly frameSamples: number
  readonly frameMs: number
  readonly aggressiveness: number
  readonly segmenterDefaults = WEBRTC_SEGMENTER_DEFAULTS
  readonly #module: FvadModule
  #instance: number
  readonly #buffer: number

  private constructor(module: FvadModule, sampleRate: number, frameMs: number, aggressiveness: number) {
    this.#module = module
    this.sampleRate = sampleRate
    this.frameMs = frameMs
    this.aggressiveness = aggressiveness
    this.frameSamples = (sampleRate * frameMs) / 1000
    this.#instance = module._fvad_new()
    if (!this.#instance) throw new WsError('internal_error', 'libfvad could not allocate a detector')
    this.#configure()
    this.#buffer = module._malloc(this.frameSamples * 2)
  }

  static async create(options: WebRtcVadOptions = {}): Promise<WebRtcVad> {
    const o = withDefaults(DEFAULT_WEBRTC_VAD_OPTIONS, options)
    if (!RATES.includes(o.sampleRate)) {
      throw new WsError(
        'unsupported_sample_rate',
        `WebRTC VAD takes ${RATES.join(', ')} Hz, got ${o.sampleRate}`,
      )
    }
    if (!FRAME_MS.includes(o.frameMs)) {
      throw new WsError('invalid_config', `WebRTC VAD frames are 10, 20 or 30 ms, got ${o.frameMs}`)
    }
    if (!Number.isInteger(o.aggressiveness) || o.aggressiveness < 0 || o.aggressiveness > 3) {
      throw new WsError('invalid_config', `WebRTC VAD aggressiveness is 0 to 3, got ${o.aggressiveness}`)
    }
    shared ??= createModule()
    return new WebRtcVad(await shared, o.sampleRate, o.frameMs, o.aggressiveness)
  }

  /** Speech or not for one frame (Float32 in [-1, 1] or PCM16) of exactly `frameSamples` samples. */
  isSpeech(frame: Int16Array | Float32Array): boolean {
    if (!this.#instance) throw new WsError('closed', 'The VAD is closed')
    validateVadFrame(frame, this.frameSamples)
    const heap = this.#module.HEAP16
    const base = this.#buffer >> 1
    if (frame instanceof Int16Array) {
      heap.set(frame, base)
    } else {
      for (let i = 0; i < frame.length; i++) {
        const s = frame[i]!
        const c = Math.min(1, Math.max(-1, s))
        heap[base + i] = c < 0 ? Math.round(c * 32768) : Math.round(c * 32767)
      }
    }
    const result = this.#module._fvad_process(this.#instance, this.#buffer, this.frameSamples)
    if (result < 0) throw new WsError('invalid_frame', 'libfvad refused the frame')
    return result === 1
  }

  reset(): void {
    if (!this.#instance) return
    this.#module._fvad_reset(this.#instance)
    this.#configure() // fvad_reset also resets mode and rate
  }

  /** Frees the detector. Idempotent. */
  close(): void {
    if (!this.#instance) return
    this.#module._fvad_free(this.#instance)
    this.#module._free(this.#buffer)
    this.#instance = 0
  }

  #configure(): void {
    if (this.#module._fvad_set_mode(this.#instance, this.aggressiveness) !== 0) {
      throw new WsError('invalid_config', `libfvad refused mode ${this.aggressiveness}`)
    }
    if (this.#module._fvad_set_sample_rate(this.#instance, this.sampleRate) !== 0) {
      throw new WsError('unsupported_sample_rate', `libfvad refused ${this.sampleRate} Hz`)
    }
  }
}

/** Makes a WebRTC VAD (the factory the server uses for `VAD_BACKEND=webrtc`). */
export function createVad(options: WebRtcVadOptions = {}): Promise<WebRtcVad> {
  return WebRtcVad.create(options)
}
