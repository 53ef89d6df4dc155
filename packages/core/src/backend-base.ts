import type { TranscribeOptions, WhisperBackend } from './backend.js'
import { validateTranscribeInput } from './backend.js'
import { throwIfAborted, WsError } from './errors.js'
import { childLogger, type Logger, noopLogger } from './logger.js'
import { isWhisperLanguage } from './text/languages.js'
import type { TranscriptResult } from './types.js'

/**
 * The lifecycle every {@link WhisperBackend} shares, written once: the public methods check
 * state and input the same way for every engine, then call the protected ones an engine
 * implements (the public-wraps-protected shape of livekit's `STT`).
 *
 * - `loadModel`: `closed` after `close()`; then {@link loadModelImpl}.
 * - `transcribe`: `closed`, `model_not_loaded`, `aborted`, `unsupported_sample_rate`,
 *   `invalid_audio`, a language Whisper does not know, a `beamSize` out of 1–`MAX_BEAM_SIZE` (8), and for an English-only model a
 *   language other than English or `translate` (`invalid_config`); all as rejections, never throws; then {@link transcribeImpl}.
 * - `close`: once; every call returns the same promise ({@link closeImpl}).
 */
export abstract class BackendBase<Options extends object = object> implements WhisperBackend {
  readonly name: string
  /** The options, validated, with their defaults. */
  readonly options: Options
  protected readonly log: Logger
  #closing: Promise<void> | undefined

  constructor(name: string, options: Options, logger?: Logger) {
    this.name = name
    this.options = options
    this.log = childLogger(logger ?? noopLogger, { backend: name })
  }

  /** Whether the model is multilingual; undefined until one is loaded. */
  abstract get multilingual(): boolean | undefined

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined
  }

  async loadModel(model: string): Promise<void> {
    this.assertOpen()
    await this.loadModelImpl(model)
  }

  transcribe(
    audio: Float32Array,
    sampleRate: number,
    options: TranscribeOptions = {},
  ): Promise<TranscriptResult> {
    try {
      this.assertOpen()
      if (!this.modelLoaded) throw new WsError('model_not_loaded', 'Call loadModel() before transcribe()')
      throwIfAborted(options.signal, 'transcription')
      validateTranscribeInput(audio, sampleRate, options)
      if (options.language !== undefined && !isWhisperLanguage(options.language)) {
        throw new WsError(
          'invalid_config',
          `"${options.language}" is not a language Whisper knows (a code such as "en" or "es": WHISPER_LANGUAGES)`,
        )
      }
      if (this.multilingual === false && options.language && options.language !== 'en') {
        throw new WsError(
          'invalid_config',
          `This model is English-only; it cannot take language "${options.language}"`,
        )
      }
      if (this.multilingual === false && options.task === 'translate') {
        throw new WsError('invalid_config', 'This model is English-only; it cannot translate')
      }
    } catch (err) {
      return Promise.reject(err)
    }
    return this.transcribeImpl(audio, options)
  }

  close(): Promise<void> {
    this.#closing ??= this.closeImpl()
    return this.#closing
  }

  /** Throws `closed` once `close()` was called (for steps that await and go on). */
  protected assertOpen(): void {
    if (this.#closing) throw new WsError('closed', 'The backend is closed')
  }

  /** A model is loaded and `transcribe` may run. */
  protected abstract get modelLoaded(): boolean
  protected abstract loadModelImpl(model: string): Promise<void>
  /** Input already checked: mono 16 kHz, finite, not empty, signal not aborted. */
  protected abstract transcribeImpl(
    audio: Float32Array,
    options: TranscribeOptions,
  ): Promise<TranscriptResult>
  /** Called once; `closed` is already true. */
  protected abstract closeImpl(): Promise<void>
}
