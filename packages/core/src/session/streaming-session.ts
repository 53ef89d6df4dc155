import { quietestPoint } from '../audio/energy.js'
import { int16ToFloat32 } from '../audio/pcm.js'
import { Resampler } from '../audio/resample.js'
import { SampleBuffer } from '../audio/sample-buffer.js'
import type { WhisperBackend } from '../backend.js'
import { isWsError, toWsError, WsError } from '../errors.js'
import { type Logger, noopLogger } from '../logger.js'
import type { LocalAgreementOptions } from '../strategies/local-agreement.js'
import {
  createStrategy,
  isStrategyName,
  type SpeculativeFinal,
  type Strategy,
  type StrategyName,
  type UtteranceTranscriber,
  type UtteranceTranscript,
} from '../strategies/strategy.js'
import { shiftSegment } from '../text/words.js'
import type { Segment, Task } from '../types.js'
import { WHISPER_SAMPLE_RATE, WHISPER_WINDOW_SECONDS } from '../types.js'
import { type SegmenterEvent, VadSegmenter, type VadSegmenterOptions } from '../vad/segmenter.js'
import type { VadBackend } from '../vad.js'
import { EventQueue } from './event-queue.js'
import type { InferenceGate, InferenceTicket } from './scheduler.js'

/** Why an utterance ended. */
export type FinalReason = 'vad_end' | 'speech_end' | 'max_length' | 'end'

/** A transcript of the current utterance so far. Times are seconds from the start of the stream. */
export interface PartialEvent {
  type: 'partial'
  utteranceId: number
  text: string
  /** Committed text that will not change (LocalAgreement); empty for the other strategies. */
  stable: string
  /** Text that may still change. */
  unstable: string
  audioStart: number
  audioEnd: number
  processingTimeMs: number
  /** Seconds of audio received but not covered by this partial when it was emitted. */
  lagSeconds: number
}

/** The transcript of a finished utterance. Segment and word times are seconds from the start of the stream. */
export interface FinalEvent {
  type: 'final'
  utteranceId: number
  text: string
  segments: Segment[]
  language: string
  audioStart: number
  audioEnd: number
  processingTimeMs: number
  reason: FinalReason
}

export interface SpeechStartEvent {
  type: 'speech_start'
  /** Seconds from the start of the stream, padding included. */
  t: number
}

export interface SpeechEndEvent {
  type: 'speech_end'
  t: number
}

/** A failure the session survived; a failed final names the audio it could not transcribe. */
export interface SessionErrorEvent {
  type: 'error'
  error: WsError
  utteranceId?: number
  audioStart?: number
  audioEnd?: number
}

export type SessionEvent = PartialEvent | FinalEvent | SpeechStartEvent | SpeechEndEvent | SessionErrorEvent

export interface StreamingSessionOptions {
  backend: WhisperBackend
  /** A strategy name or instance (default `hybrid`). */
  strategy?: StrategyName | Strategy
  /** Rate of the audio pushed in; anything but 16 kHz is resampled (default 16 000). */
  sampleRate?: number
  /** With a VAD, utterances start and end by themselves ("server VAD"). */
  vad?: VadBackend
  /** Segmenter settings (default: the VAD's `segmenterDefaults`, then the core defaults). */
  vadSegmenter?: VadSegmenterOptions
  /** New audio between partials; 0 turns partials off (default 500). */
  partialIntervalMs?: number
  /** No partial for an utterance shorter than this (default 300). */
  minPartialMs?: number
  /** An utterance this long is finalised, cut at its quietest point near the end (default 25 000). */
  maxUtteranceMs?: number
  /**
   * With a VAD: after this much silence inside an utterance, its final is computed ahead,
   * so that it is ready when the VAD's hangover ends the utterance; used only if no speech
   * came after it (default 60; 0 turns it off). Behind a gate, only while the backend is
   * idle, since speech that resumes wastes it, or busy with this utterance's partial, which a
   * backend that `stopsRunningCalls` stops. Strategies `prompt`, `context`, `hybrid`.
   */
  speculativeFinalMs?: number
  language?: string
  task?: Task
  wordTimestamps?: boolean
  /** Context carried by the `context` and `hybrid` strategies (default 1000). */
  contextMs?: number
  maxPromptChars?: number
  agreement?: LocalAgreementOptions
  logger?: Logger
  /**
   * Where each transcription waits for its turn (an {@link InferenceScheduler}'s gate, shared
   * by the sessions of one backend). Without it, requests go straight to the backend.
   */
  gate?: InferenceGate
  /** Aborting closes the session. */
  signal?: AbortSignal
}

export const DEFAULT_STREAMING_SESSION_OPTIONS = {
  strategy: 'hybrid',
  sampleRate: WHISPER_SAMPLE_RATE,
  partialIntervalMs: 500,
  minPartialMs: 300,
  maxUtteranceMs: 25_000,
  speculativeFinalMs: 60,
  wordTimestamps: false,
  contextMs: 1000,
  maxPromptChars: 200,
} as const satisfies Partial<StreamingSessionOptions>

const SR = WHISPER_SAMPLE_RATE
const MAX_CUT_SEARCH_SAMPLES = 3 * SR

type Command =
  | { kind: 'audio'; samples: Float32Array }
  | { kind: 'end_utterance' }
  | { kind: 'cancel' }
  | { kind: 'end' }

interface Utterance {
  id: number
  /** First sample, in the 16 kHz stream timeline. */
  start: number
  audio: SampleBuffer
  /** Samples known to belong to this utterance (VAD decisions lag behind the audio). */
  safeLength: number
  lastPartialAt: number
  partialWanted: boolean
  partialAbort: AbortController | undefined
  closed: boolean
  reason: FinalReason | undefined
  transcriber: UtteranceTranscriber
  /** A final computed ahead from the first `length` samples; void once speech follows them. */
  speculation:
    | { length: number; valid: boolean; result: Promise<SpeculativeFinal | undefined>; stop: () => void }
    | undefined
}

function validateOptions(options: StreamingSessionOptions) {
  const o = { ...DEFAULT_STREAMING_SESSION_OPTIONS, ...options }
  const bad = (message: string): never => {
    throw new WsError('invalid_config', message)
  }
  if (!o.backend || typeof o.backend.transcribe !== 'function') bad('StreamingSession needs a backend')
  if (typeof o.strategy === 'string' && !isStrategyName(o.strategy)) bad(`Unknown strategy "${o.strategy}"`)
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 1000 || o.sampleRate > 768_000) {
    throw new WsError(
      'unsupported_sample_rate',
      `sampleRate must be an integer from 1000 to 768000, got ${o.sampleRate}`,
    )
  }
  if (!(o.partialIntervalMs === 0 || (o.partialIntervalMs >= 50 && o.partialIntervalMs <= 60_000))) {
    bad(`partialIntervalMs must be 0 (off) or from 50 to 60000, got ${o.partialIntervalMs}`)
  }
  if (!(o.minPartialMs >= 0)) bad('minPartialMs must be >= 0')
  if (!(o.speculativeFinalMs >= 0)) bad('speculativeFinalMs must be >= 0 (0 is off)')
  const windowMs = WHISPER_WINDOW_SECONDS * 1000
  const contextMs = o.strategy === 'context' || o.strategy === 'hybrid' ? o.contextMs : 0
  if (!(o.maxUtteranceMs >= 1000 && o.maxUtteranceMs + contextMs <= windowMs)) {
    bad(
      `maxUtteranceMs must be at least 1000 and, with ${contextMs} ms of context, fit Whisper's ${windowMs} ms window`,
    )
  }
  if (o.vad && o.vad.sampleRate !== SR)
    bad(`The session runs its VAD at ${SR} Hz; this VAD runs at ${o.vad.sampleRate} Hz`)
  if (o.vad && !(Number.isInteger(o.vad.frameSamples) && o.vad.frameSamples > 0))
    bad('VAD frameSamples must be positive')
  return o
}

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
 * Invariants: every sample pushed (after resampling to 16 kHz) belongs to exactly one final,
 * except audio of a cancelled utterance and, with a VAD, the silence between utterances;
 * finals come in order; a partial of an utterance never follows its final.
 */
export class StreamingSession implements AsyncIterable<SessionEvent> {
  readonly options: ReturnType<typeof validateOptions>
  readonly strategy: Strategy
  readonly #log: Logger
  readonly #events: EventQueue<SessionEvent>
  readonly #resampler: Resampler | undefined
  readonly #abort = new AbortController()
  readonly #maxSamples: number
  readonly #partialSamples: number
  readonly #minPartialSamples: number
  readonly #segmenter: VadSegmenter | undefined
  readonly #vadCarry = new SampleBuffer(2048)
  readonly #preroll = new SampleBuffer()
  #prerollStart = 0
  #commands: Command[] = []
  #finals: Utterance[] = []
  #utterance: Utterance | undefined
  #received = 0
  #finalizing = 0 // samples of the final being transcribed
  #silentSamples = 0 // non-speech samples since the last speech frame
  readonly #speculateSamples: number
  #nextId = 1
  #pumping = false
  #working = false
  #flushing = false // inside the end-of-stream step
  #state: 'open' | 'ending' | 'closed' = 'open'
  #done: Promise<void>
  #resolveDone!: () => void

  constructor(options: StreamingSessionOptions) {
    this.options = validateOptions(options)
    const o = this.options
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
    this.#maxSamples = Math.round((o.maxUtteranceMs * SR) / 1000)
    this.#partialSamples = Math.round((o.partialIntervalMs * SR) / 1000)
    this.#minPartialSamples = Math.round((o.minPartialMs * SR) / 1000)
    this.#speculateSamples = Math.round((o.speculativeFinalMs * SR) / 1000)
    this.#segmenter = o.vad
      ? new VadSegmenter(o.vad.frameSamples, SR, { ...o.vad.segmenterDefaults, ...o.vadSegmenter })
      : undefined
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
    return this.#received / SR
  }

  /**
   * Seconds of audio held and not yet finalised: the open utterance and the utterances
   * waiting for (or in) their final transcription. What bounds a session's memory.
   */
  get pendingSeconds(): number {
    let samples = (this.#utterance?.audio.length ?? 0) + this.#finalizing + this.#preroll.length
    for (const u of this.#finals) samples += u.audio.length
    return samples / SR
  }

  /** Seconds of audio in the open utterance. */
  get bufferedSeconds(): number {
    return (this.#utterance?.audio.length ?? 0) / SR
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
    if (resampled.length > 0) this.#command({ kind: 'audio', samples: resampled })
  }

  /** The current utterance is over (the protocol's `vad_end`): finalise it now. */
  endUtterance(): void {
    this.#assertOpen()
    this.#command({ kind: 'end_utterance' })
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
    if (tail && tail.length > 0) this.#command({ kind: 'audio', samples: tail })
    this.#command({ kind: 'end' })
    this.#state = 'ending'
    return this.#done
  }

  /** Stops at once: aborts inference in flight, emits nothing more. Idempotent. */
  close(): Promise<void> {
    if (this.#state === 'closed') return this.#done
    this.#state = 'closed'
    this.#abort.abort(new WsError('closed', 'The session was closed'))
    this.#commands = []
    this.#finals = []
    this.#utterance?.partialAbort?.abort()
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
    if (this.#state !== 'closed') this.#events.push(event)
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
            if (this.#segmenter) await this.#ingestWithVad(command.samples)
            else this.#ingest(command.samples)
            this.#schedulePartial()
            break
          case 'end_utterance':
            this.#endUtterance('vad_end')
            break
          case 'cancel':
            this.#cancelUtterance()
            break
          case 'end':
            await this.#finishStream()
            break
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

  // ---- utterances ------------------------------------------------------------------------

  #open(start: number): Utterance {
    const utterance: Utterance = {
      id: this.#nextId++,
      start,
      audio: new SampleBuffer(),
      safeLength: 0,
      lastPartialAt: 0,
      partialWanted: false,
      partialAbort: undefined,
      closed: false,
      reason: undefined,
      transcriber: this.strategy.utterance(),
      speculation: undefined,
    }
    this.#utterance = utterance
    return utterance
  }

  /** Closes the open utterance and queues its final (nothing for an empty one). */
  #close(reason: FinalReason): void {
    const u = this.#utterance
    if (!u) return
    this.#utterance = undefined
    u.closed = true
    u.reason = reason
    u.partialWanted = false
    u.partialAbort?.abort()
    if (u.audio.length === 0) return
    u.safeLength = u.audio.length
    this.#finals.push(u)
    void this.#work()
  }

  /** Splits an utterance that reached the maximum length at its quietest point near the end. */
  #split(u: Utterance): void {
    const length = u.audio.length
    const cut = Math.max(
      1,
      quietestPoint(u.audio.view(), Math.max(length / 2, length - MAX_CUT_SEARCH_SAMPLES), length),
    )
    const rest = u.audio.slice(cut)
    const safe = u.safeLength
    u.audio.truncate(cut)
    this.#close('max_length')
    this.#segmenter?.split(u.start + cut)
    const next = this.#open(u.start + cut)
    next.audio.append(rest)
    next.safeLength = Math.max(0, safe - cut)
  }

  #append(u: Utterance, samples: Float32Array): void {
    let offset = 0
    let current = u
    while (offset < samples.length) {
      const take = Math.min(this.#maxSamples - current.audio.length, samples.length - offset)
      current.audio.append(samples.subarray(offset, offset + take))
      offset += take
      if (current.audio.length >= this.#maxSamples) {
        this.#split(current)
        current = this.#utterance!
      }
    }
  }

  #ingest(samples: Float32Array): void {
    const u = this.#utterance ?? this.#open(this.#received)
    this.#received += samples.length
    this.#append(u, samples)
    const open = this.#utterance!
    open.safeLength = open.audio.length
  }

  async #ingestWithVad(samples: Float32Array): Promise<void> {
    const vad = this.options.vad!
    const segmenter = this.#segmenter!
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
      this.#received += frameSamples
      if (this.#utterance) this.#append(this.#utterance, frame)
      else this.#preroll.append(frame)
      for (const event of segmenter.push(speech)) this.#onSegmenterEvent(event)
      const u = this.#utterance
      if (u) u.safeLength = Math.min(u.audio.length, Math.max(0, segmenter.confirmedUntil - u.start))
      else if (segmenter.state === 'silence') this.#trimPreroll()
      if (speech) {
        this.#silentSamples = 0
        if (u?.speculation?.valid) {
          u.speculation.valid = false
          u.speculation.stop()
        }
      } else {
        this.#silentSamples += frameSamples
        if (u && segmenter.inSpeech) this.#speculate(u)
      }
    }
  }

  #trimPreroll(): void {
    const o = this.#segmenter!.options
    const keep = Math.round(((o.prePaddingMs + 100) * SR) / 1000)
    const drop = this.#preroll.length - keep
    if (drop > 0) {
      this.#preroll.dropFront(drop)
      this.#prerollStart += drop
    }
  }

  #onSegmenterEvent(event: SegmenterEvent): void {
    if (event.type === 'speech_start') {
      const start = Math.max(event.sample, this.#prerollStart)
      const u = this.#open(start)
      u.audio.append(this.#preroll.view(start - this.#prerollStart))
      this.#preroll.clear()
      this.#prerollStart = this.#received
      this.#emit({ type: 'speech_start', t: start / SR })
      return
    }
    const u = this.#utterance
    if (!u) return
    const keep = Math.max(0, event.sample - u.start)
    const rest = u.audio.slice(keep)
    u.audio.truncate(keep)
    this.#emit({ type: 'speech_end', t: (u.start + keep) / SR })
    this.#close(this.#flushing ? 'end' : 'speech_end')
    this.#preroll.clear()
    this.#preroll.append(rest)
    this.#prerollStart = u.start + keep
  }

  #endUtterance(reason: FinalReason): void {
    this.#close(reason)
    const segmenter = this.#segmenter
    if (segmenter?.inSpeech) {
      // Speech goes on: what follows is a new utterance.
      segmenter.split(this.#received)
      this.#open(this.#received)
    }
  }

  #cancelUtterance(): void {
    const u = this.#utterance
    if (!u) return
    this.#utterance = undefined
    u.closed = true
    u.partialAbort?.abort()
    if (this.#segmenter?.inSpeech) {
      this.#segmenter.split(this.#received)
      this.#open(this.#received)
    }
  }

  async #finishStream(): Promise<void> {
    const segmenter = this.#segmenter
    if (segmenter) {
      const rest = this.#vadCarry.slice()
      this.#vadCarry.clear()
      this.#received += rest.length
      if (this.#utterance) this.#append(this.#utterance, rest)
      else this.#preroll.append(rest)
      this.#flushing = true
      for (const event of segmenter.flush(this.#received)) this.#onSegmenterEvent(event)
      this.#flushing = false
    }
    this.#close('end')
  }

  // ---- inference -------------------------------------------------------------------------

  /** Starts computing the final of an utterance that seems to be ending (see `speculativeFinalMs`). */
  #speculate(u: Utterance): void {
    const transcriber = u.transcriber
    if (this.#speculateSamples === 0 || !transcriber.speculate || u.speculation?.valid) return
    if (this.#silentSamples < this.#speculateSamples || u.closed) return
    // The previous utterance's final must be in: it sets the prompt and context of this one.
    if (this.#finals.length > 0 || this.#finalizing > 0) return
    // Speech may resume and waste it: only when the backend has nothing else to do, or when
    // what it does is this utterance's partial and the backend can stop it (the speculation
    // supersedes it: no partial runs while one is valid).
    const gate = this.options.gate
    if (gate?.idle && !gate.idle()) {
      if (!(u.partialAbort && this.options.backend.stopsRunningCalls)) return
      u.partialAbort.abort()
    }
    const length = u.audio.length
    // A backend that can stop a running call stops a speculation as soon as speech resumes.
    const stop = new AbortController()
    const signal = this.options.backend.stopsRunningCalls
      ? AbortSignal.any([this.#abort.signal, stop.signal])
      : this.#abort.signal
    const result = (async () => {
      const ticket = await this.#turn('final', signal).catch(() => undefined)
      if (!ticket) return undefined
      try {
        return await transcriber.speculate!(u.audio.slice(0, length), signal)
      } catch (err) {
        this.#log.debug({ err, utteranceId: u.id }, 'speculative final failed')
        return undefined
      } finally {
        if (ticket !== 'none') ticket.release(signal.aborted ? undefined : length / SR)
      }
    })()
    u.speculation = { length, valid: true, result, stop: () => stop.abort() }
  }

  #schedulePartial(): void {
    const u = this.#utterance
    if (!u || this.#partialSamples === 0 || u.closed || u.speculation?.valid) return
    if (u.safeLength < this.#minPartialSamples) return
    if (u.safeLength - u.lastPartialAt < this.#partialSamples) return
    u.partialWanted = true
    void this.#work()
  }

  /** Runs inference one request at a time: finals first, in order; then the open utterance's partial. */
  async #work(): Promise<void> {
    if (this.#working) return
    this.#working = true
    try {
      while (this.#state !== 'closed') {
        const final = this.#finals.shift()
        if (final) {
          this.#finalizing = final.audio.length
          try {
            await this.#runFinal(final)
          } finally {
            this.#finalizing = 0
          }
          continue
        }
        const u = this.#utterance
        if (u?.partialWanted) {
          await this.#runPartial(u)
          this.#schedulePartial()
          continue
        }
        break
      }
    } finally {
      this.#working = false
      this.#settle()
    }
  }

  /** Waits for a turn at the gate, if there is one; undefined when aborted meanwhile. */
  async #turn(kind: 'partial' | 'final', signal: AbortSignal): Promise<InferenceTicket | 'none' | undefined> {
    const gate = this.options.gate
    if (!gate) return 'none'
    try {
      const ticket = await gate.acquire(kind, signal)
      if (signal.aborted) {
        ticket.release()
        return undefined
      }
      return ticket
    } catch (err) {
      if (signal.aborted || isWsError(err, 'aborted')) return undefined
      throw err
    }
  }

  async #runPartial(u: Utterance): Promise<void> {
    u.partialWanted = false
    u.lastPartialAt = u.safeLength
    const abort = new AbortController()
    u.partialAbort = abort
    const onClose = () => abort.abort()
    this.#abort.signal.addEventListener('abort', onClose, { once: true })
    let ticket: InferenceTicket | 'none' | undefined
    try {
      ticket = await this.#turn('partial', abort.signal)
      if (!ticket || u.closed) return
      // Read the audio only now: a partial that waited covers everything received meanwhile.
      const length = u.safeLength
      u.lastPartialAt = length
      const started = performance.now()
      // Behind a gate, a partial that got its turn runs to the end (only closing the session
      // stops it) unless the backend can stop a running call: the turn is released when the
      // backend is really free, which keeps the scheduler's accounting true.
      const signal =
        ticket === 'none' || this.options.backend.stopsRunningCalls ? abort.signal : this.#abort.signal
      const result = await u.transcriber.partial(u.audio.slice(0, length), signal)
      if (abort.signal.aborted || u.closed) return
      this.#emit({
        type: 'partial',
        utteranceId: u.id,
        text: result.text,
        stable: result.stable,
        unstable: result.unstable,
        audioStart: u.start / SR,
        audioEnd: (u.start + length) / SR,
        processingTimeMs: Math.round(performance.now() - started),
        lagSeconds: Math.max(0, this.#received - (u.start + length)) / SR,
      })
    } catch (err) {
      if (abort.signal.aborted || isWsError(err, 'aborted')) return
      this.#log.warn({ err, utteranceId: u.id }, 'partial transcription failed')
      this.#emit({ type: 'error', error: toWsError(err, 'backend_failed', true), utteranceId: u.id })
    } finally {
      if (ticket && ticket !== 'none') ticket.release()
      u.partialAbort = undefined
      this.#abort.signal.removeEventListener('abort', onClose)
    }
  }

  async #runFinal(u: Utterance): Promise<void> {
    const audio = u.audio.view()
    const audioStart = u.start / SR
    const audioEnd = (u.start + audio.length) / SR
    const started = performance.now()
    const speculation = u.speculation
    if (speculation?.valid && speculation.length <= audio.length) {
      // Only silence came after the audio it covers: it is this utterance's final.
      const ready = await speculation.result
      if (this.#state === 'closed') return
      if (ready && speculation.valid) {
        ready.commit()
        this.#emitFinal(u, ready.transcript, audioStart, audioEnd, started)
        return
      }
    }
    let ticket: InferenceTicket | 'none' | undefined
    try {
      ticket = await this.#turn('final', this.#abort.signal)
    } catch (err) {
      this.#emit({ type: 'error', error: toWsError(err), utteranceId: u.id, audioStart, audioEnd })
      return
    }
    if (!ticket) return
    try {
      await this.#transcribeFinal(u, audio, audioStart, audioEnd, started)
    } finally {
      if (ticket !== 'none') ticket.release(audio.length / SR)
    }
  }

  #emitFinal(
    u: Utterance,
    result: UtteranceTranscript,
    audioStart: number,
    audioEnd: number,
    started: number,
  ) {
    this.#emit({
      type: 'final',
      utteranceId: u.id,
      text: result.text,
      segments: result.segments.map((s) => shiftSegment(s, audioStart)),
      language: result.language,
      audioStart,
      audioEnd,
      processingTimeMs: Math.round(performance.now() - started),
      reason: u.reason ?? 'end',
    })
  }

  async #transcribeFinal(
    u: Utterance,
    audio: Float32Array,
    audioStart: number,
    audioEnd: number,
    started: number,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await u.transcriber.final(audio, this.#abort.signal)
        this.#emitFinal(u, result, audioStart, audioEnd, started)
        return
      } catch (err) {
        if (this.#state === 'closed') return
        const error = toWsError(err, 'backend_failed', true)
        if (error.retryable && attempt < 2) {
          this.#log.warn({ err, utteranceId: u.id }, 'final transcription failed; retrying once')
          continue
        }
        this.#log.error({ err, utteranceId: u.id }, 'final transcription failed')
        this.#emit({ type: 'error', error, utteranceId: u.id, audioStart, audioEnd })
        return
      }
    }
  }

  /** Ends the event stream once an ending session has nothing left to do. */
  #settle(): void {
    if (this.#state === 'closed') {
      if (!this.#working && !this.#pumping) this.#resolveDone()
      return
    }
    if (this.#state !== 'ending') return
    if (this.#pumping || this.#working || this.#commands.length > 0 || this.#finals.length > 0) return
    this.#events.end()
    this.#state = 'closed'
    this.#resolveDone()
  }
}

/** Makes a {@link StreamingSession}. */
export function createStreamingSession(options: StreamingSessionOptions): StreamingSession {
  return new StreamingSession(options)
}
