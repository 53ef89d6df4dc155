import { int16ToFloat32 } from '../audio/pcm.js'
import { Resampler } from '../audio/resample.js'
import { SampleBuffer } from '../audio/sample-buffer.js'
import { toWsError, WsError } from '../errors.js'
import { type Logger, noopLogger } from '../logger.js'
import { withDefaults } from '../options.js'
import { createStrategy, type Strategy } from '../strategies/strategy.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { EventQueue } from './event-queue.js'
import type { FinalEvent, SessionEvent } from './events.js'
import { InferenceLoop } from './inference-loop.js'
import { Reviser } from './reviser.js'
import { type StreamingSessionOptions, validateStreamingSessionOptions } from './streaming-options.js'
import { type TrackerEvent, UtteranceTracker } from './utterance-tracker.js'

export type * from './events.js'
export * from './streaming-options.js'

const SR = WHISPER_SAMPLE_RATE

type Command =
  | { kind: 'audio'; samples: Float32Array }
  | { kind: 'end_utterance'; done: (closed: boolean) => void }
  | { kind: 'cancel' }
  | { kind: 'end' }

/**
 * One live stream: audio frames of any size in, transcript events out.
 *
 * ```ts
 * const session = new StreamingSession({ backend, strategy: 'agreement', sampleRate: 48_000 })
 * session.pushAudio(frame)       // any number of times, any size
 * session.endUtterance()         // optional: the speaker finished a sentence
 * void session.end()             // finalise everything; the loop below then ends
 * for await (const event of session) console.log(event.type, 'text' in event ? event.text : '')
 * ```
 *
 * Three parts: this front (input checks, resampling, one command at a time, the VAD's calls,
 * the event stream and its end), an {@link UtteranceTracker} (utterances from frames and VAD
 * decisions) and an {@link InferenceLoop} (partials, finals, finals computed ahead).
 *
 * Invariants: every sample pushed (after resampling to 16 kHz) belongs to exactly one final,
 * except audio of a cancelled utterance and, with a VAD, the silence between utterances;
 * finals come in order; a partial of an utterance never follows its final.
 */
export class StreamingSession implements AsyncIterable<SessionEvent> {
  readonly options: ReturnType<typeof validateStreamingSessionOptions>
  readonly strategy: Strategy
  readonly #log: Logger
  readonly #events: EventQueue<SessionEvent>
  readonly #resampler: Resampler | undefined
  readonly #abort = new AbortController()
  readonly #tracker: UtteranceTracker
  readonly #loop: InferenceLoop
  readonly #reviser: Reviser | undefined
  readonly #vadCarry = new SampleBuffer(2048)
  #commands: Command[] = []
  #backlogWaiters: { seconds: number; resolve: () => void }[] = []
  #pumping = false
  #language: string | undefined
  #state: 'open' | 'ending' | 'closed' = 'open'
  readonly #done: Promise<void>
  #resolveDone!: () => void

  constructor(options: StreamingSessionOptions) {
    this.options = validateStreamingSessionOptions(options)
    const o = this.options
    this.#language = o.language
    this.#log = o.logger ?? noopLogger
    this.strategy =
      typeof o.strategy === 'string'
        ? createStrategy(o.strategy, {
            backend: o.backend,
            wordTimestamps: o.wordTimestamps,
            contextMs: o.contextMs,
            maxPromptChars: o.maxPromptChars,
            ...(o.language ? { language: o.language } : {}),
            ...(o.task ? { task: o.task } : {}),
            ...(o.agreement ? { agreement: o.agreement } : {}),
          })
        : o.strategy
    this.#resampler = o.sampleRate === SR ? undefined : new Resampler({ fromRate: o.sampleRate, toRate: SR })
    const samples = (ms: number) => Math.round((ms * SR) / 1000)
    this.#tracker = new UtteranceTracker({
      maxSamples: samples(o.maxUtteranceMs),
      ...(o.vad
        ? {
            vad: {
              frameSamples: o.vad.frameSamples,
              segmenter: withDefaults(o.vad.segmenterDefaults ?? {}, o.vadSegmenter),
            },
          }
        : {}),
    })
    this.#reviser =
      o.reviseMaxMs > 0
        ? new Reviser({
            backend: o.backend,
            gate: o.gate,
            logger: this.#log,
            signal: this.#abort.signal,
            maxBlockSamples: samples(o.reviseMaxMs),
            keepSamples: 2 * samples(o.reviseMaxMs),
            language: o.language,
            task: o.task,
            maxPromptChars: o.revisePromptChars,
            beamSize: o.reviseBeamSize,
            wordTimestamps: o.wordTimestamps,
            weighWords: o.backend.wordProbabilities === true,
            emit: (event) => this.#emit(event),
          })
        : undefined
    this.#loop = new InferenceLoop({
      strategy: this.strategy,
      backend: o.backend,
      gate: o.gate,
      logger: this.#log,
      signal: this.#abort.signal,
      partialSamples: samples(o.partialIntervalMs),
      // A strategy may need longer steps (`agreement`: LocalAgreement's `minChunkMs`).
      minStepSamples: samples(this.strategy.minPartialIntervalMs ?? 0),
      partialIntervalRatio: o.partialIntervalRatio,
      maxPartialLoad: o.maxPartialLoad,
      minPartialSamples: samples(o.minPartialMs),
      speculateSamples: samples(o.speculativeFinalMs),
      received: () => this.#tracker.received,
      emit: (event) => this.#emit(event),
      onIdle: () => this.#settle(),
      onFinalDone: () => this.#checkBacklog(),
      reviser: this.#reviser,
      finalWords: !!this.#reviser && o.backend.wordProbabilities === true,
      wordTimestamps: o.wordTimestamps,
    })
    this.#events = new EventQueue<SessionEvent>(() => void this.close())
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
    if (o.signal) {
      if (o.signal.aborted) void this.close()
      else o.signal.addEventListener('abort', () => void this.close(), { once: true })
    }
  }

  /** Seconds of audio received, at 16 kHz. */
  get receivedSeconds(): number {
    return this.#tracker.received / SR
  }

  /**
   * Seconds of audio held and not yet finalised: the open utterance and the utterances
   * waiting for (or in) their final transcription. What bounds a session's memory.
   */
  get pendingSeconds(): number {
    const open = this.#tracker.open?.audio.length ?? 0
    return (open + this.#tracker.heldSamples + this.#loop.pendingSamples) / SR
  }

  /** Seconds of audio in utterances that ended and wait for (or are in) their final. */
  get backlogSeconds(): number {
    return this.#loop.pendingSamples / SR
  }

  /**
   * Resolves once {@link backlogSeconds} is under `seconds` (at once if it is), or the
   * session closes: for a reader that stopped reading while the backend was behind.
   */
  backlogBelow(seconds: number): Promise<void> {
    if (this.backlogSeconds < seconds || this.#state === 'closed') return Promise.resolve()
    return new Promise((resolve) => this.#backlogWaiters.push({ seconds, resolve }))
  }

  /** Seconds of audio in the open utterance. */
  get bufferedSeconds(): number {
    return (this.#tracker.open?.audio.length ?? 0) / SR
  }

  get closed(): boolean {
    return this.#state === 'closed'
  }

  /**
   * Adds audio: Float32 samples in [-1, 1] or PCM16, mono, at `sampleRate`. The samples are
   * copied. Throws `invalid_audio` for non-finite samples and `closed` after `end()`/`close()`.
   */
  pushAudio(samples: Float32Array | Int16Array): void {
    this.#assertOpen()
    let floats: Float32Array
    if (samples instanceof Int16Array) {
      floats = int16ToFloat32(samples)
    } else if (samples instanceof Float32Array) {
      for (let i = 0; i < samples.length; i++) {
        if (!Number.isFinite(samples[i]))
          throw new WsError('invalid_audio', `Sample ${i} is not a finite number`)
      }
      floats = samples
    } else {
      throw new WsError('invalid_audio', 'Audio must be a Float32Array or an Int16Array')
    }
    if (floats.length === 0) return
    const resampled = this.#resampler ? this.#resampler.process(floats) : floats.slice()
    if (resampled.length === 0) return
    this.options.gate?.observeAudio?.(resampled.length / SR)
    this.options.onAudio?.(resampled)
    this.#command({ kind: 'audio', samples: resampled })
  }

  /**
   * The current utterance is over (the protocol's `vad_end`): finalise it now, after the audio
   * pushed before. Resolves once the session got to it: true when an utterance with audio was
   * open (its `final` follows), false when none was (nothing to finalise, or the session closed
   * first).
   */
  endUtterance(): Promise<boolean> {
    this.#assertOpen()
    return new Promise((done) => this.#command({ kind: 'end_utterance', done }))
  }

  /** Drops the current utterance: no final for it. */
  cancelUtterance(): void {
    this.#assertOpen()
    this.#command({ kind: 'cancel' })
  }

  /** Finalises everything; resolves when the last final has been emitted and the events end. */
  end(): Promise<void> {
    if (this.#state !== 'open') return this.#done
    const tail = this.#resampler?.flush()
    if (tail && tail.length > 0) {
      this.options.onAudio?.(tail)
      this.#command({ kind: 'audio', samples: tail })
    }
    // Ending before the command: the pump may run it, and settle, at once.
    this.#state = 'ending'
    this.#command({ kind: 'end' })
    return this.#done
  }

  /** Stops at once: aborts inference in flight, emits nothing more. Idempotent. */
  close(): Promise<void> {
    if (this.#state === 'closed') return this.#done
    this.#state = 'closed'
    this.#abort.abort(new WsError('closed', 'The session was closed'))
    for (const c of this.#commands) if (c.kind === 'end_utterance') c.done(false)
    this.#commands = []
    this.#loop.stop()
    this.#checkBacklog()
    this.#events.end()
    this.#settle()
    return this.#done
  }

  /** The events, for `for await`; leaving the loop early closes the session. */
  events(): AsyncIterableIterator<SessionEvent> {
    return this.#events
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionEvent> {
    return this.#events
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new WsError('closed', 'The session has ended; it takes no more input')
  }

  #emit(event: SessionEvent): void {
    if (event.type === 'final') this.#detected(event)
    if (this.#state !== 'closed') this.#events.push(event)
  }

  /** The language of the session: asked, or detected from a long enough final; else undefined. */
  get language(): string | undefined {
    return this.#language
  }

  /** A final's language is kept for what follows, once its audio is long enough to tell. */
  #detected(event: FinalEvent): void {
    const o = this.options
    if (this.#language || o.detectLanguageMs === 0 || !event.language || event.lowConfidence) return
    if ((event.audioEnd - event.audioStart) * 1000 < o.detectLanguageMs) return
    this.#language = event.language
    this.strategy.setLanguage?.(event.language)
    this.#reviser?.setLanguage(event.language)
    this.#log.info({ language: event.language, utteranceId: event.utteranceId }, 'language detected')
  }

  #command(command: Command): void {
    this.#commands.push(command)
    void this.#pump()
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#commands.length > 0 && this.#state !== 'closed') {
        const command = this.#commands.shift()!
        switch (command.kind) {
          case 'audio':
            this.#reviser?.append(command.samples)
            if (this.options.vad) await this.#pushThroughVad(command.samples)
            else this.#apply(this.#tracker.push(command.samples))
            this.#loop.schedulePartial()
            break
          case 'end_utterance': {
            const events = this.#tracker.endUtterance()
            this.#apply(events)
            command.done(events.some((e) => e.type === 'close'))
            break
          }
          case 'cancel':
            this.#apply(this.#tracker.cancel())
            break
          case 'end': {
            const rest = this.#vadCarry.slice()
            this.#vadCarry.clear()
            this.#apply(this.#tracker.flush(rest))
            this.#loop.finish()
            break
          }
        }
      }
    } catch (err) {
      this.#log.error({ err }, 'streaming session failed')
      this.#emit({ type: 'error', error: toWsError(err) })
      void this.close()
    } finally {
      this.#pumping = false
      this.#settle()
    }
  }

  /** Frames the audio for the VAD, asks it about each frame and passes its decision on. */
  async #pushThroughVad(samples: Float32Array): Promise<void> {
    const vad = this.options.vad!
    const frameSamples = vad.frameSamples
    this.#vadCarry.append(samples)
    while (this.#vadCarry.length >= frameSamples && this.#state !== 'closed') {
      const frame = this.#vadCarry.slice(0, frameSamples)
      this.#vadCarry.dropFront(frameSamples)
      let speech: boolean
      try {
        speech = await vad.isSpeech(frame)
      } catch (err) {
        // Losing speech is worse than transcribing silence: a failed decision counts as speech.
        this.#emit({ type: 'error', error: toWsError(err, 'backend_failed', true) })
        speech = true
      }
      this.#apply(this.#tracker.pushFrame(frame, speech))
      if (speech) this.#loop.speechResumed()
      else if (this.#tracker.inSpeech) this.#loop.silence(this.#tracker.silentSamples)
    }
  }

  /** What the tracker did, passed on to the inference loop and the events. */
  #apply(events: TrackerEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'open':
          this.#loop.open(event.utterance)
          break
        case 'close':
          this.#loop.close(event.utterance)
          break
        case 'drop':
          this.#loop.drop(event.utterance)
          break
        default:
          this.#emit(event)
      }
    }
  }

  #checkBacklog(): void {
    const closed = this.#state === 'closed'
    this.#backlogWaiters = this.#backlogWaiters.filter((w) => {
      if (!closed && this.backlogSeconds >= w.seconds) return true
      w.resolve()
      return false
    })
  }

  /** Ends the event stream once an ending session has nothing left to do. */
  #settle(): void {
    if (this.#state === 'closed') {
      if (!this.#loop.busy && !this.#pumping) this.#resolveDone()
      return
    }
    if (this.#state !== 'ending') return
    if (this.#pumping || this.#loop.busy || this.#commands.length > 0) return
    this.#events.end()
    this.#state = 'closed'
    this.#resolveDone()
  }
}

/** Makes a {@link StreamingSession}. */
export function createStreamingSession(options: StreamingSessionOptions): StreamingSession {
  return new StreamingSession(options)
}
