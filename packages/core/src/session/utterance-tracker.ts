import { quietestPoint } from '../audio/energy.js'
import { SampleBuffer } from '../audio/sample-buffer.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { type SegmenterEvent, VadSegmenter, type VadSegmenterOptions } from '../vad/segmenter.js'

const SR = WHISPER_SAMPLE_RATE
const MAX_CUT_SEARCH_SAMPLES = 3 * SR

/** Why an utterance ended. */
export type FinalReason = 'vad_end' | 'speech_end' | 'max_length' | 'end'

/** An utterance as the tracker keeps it: where it starts, its audio, how much of it is certain. */
export interface TrackedUtterance {
  readonly id: number
  /** First sample, in the 16 kHz stream timeline. */
  readonly start: number
  /**
   * Its samples. Only ever appended to while it is open and cut once when it closes, so a
   * view of its first `safeLength` samples keeps its content for as long as it is held.
   */
  readonly audio: SampleBuffer
  /** Samples known to belong to this utterance (VAD decisions lag behind the audio). */
  safeLength: number
  /** Set when it closes. */
  reason: FinalReason | undefined
}

/**
 * What a step of the tracker did, in order. `close` hands over an utterance with audio to
 * finalise; `drop` one that gets no final (cancelled, or empty). Times are seconds from the
 * start of the stream.
 */
export type TrackerEvent =
  | { type: 'open'; utterance: TrackedUtterance }
  | { type: 'close'; utterance: TrackedUtterance }
  | { type: 'drop'; utterance: TrackedUtterance }
  | { type: 'speech_start'; t: number }
  | { type: 'speech_end'; t: number }

export interface UtteranceTrackerOptions {
  /** An utterance this long is closed (`max_length`), cut at its quietest point near its end. */
  maxSamples: number
  /** With a VAD: the size of the frames it decides on, and the segmenter's settings. */
  vad?: { frameSamples: number; segmenter?: VadSegmenterOptions }
}

/**
 * Cuts a stream of 16 kHz samples into utterances: a pure state machine, no backend, no
 * timers. Without a VAD, audio is pushed with {@link push} and utterances end only when told
 * ({@link endUtterance}, {@link flush}) or at the length limit. With a VAD, the caller asks
 * its VAD about each frame and pushes the frame with the decision ({@link pushFrame}); a
 * {@link VadSegmenter} turns decisions into utterances, with pre-padding from a pre-roll.
 *
 * Invariant: every sample pushed belongs to exactly one utterance handed over by `close`,
 * except those of dropped utterances and, with a VAD, the silence between utterances.
 */
export class UtteranceTracker {
  readonly #maxSamples: number
  readonly #segmenter: VadSegmenter | undefined
  readonly #preroll = new SampleBuffer()
  #prerollStart = 0
  #open: TrackedUtterance | undefined
  #received = 0
  #silentSamples = 0
  #nextId = 1
  #flushing = false
  #events: TrackerEvent[] = []

  constructor(options: UtteranceTrackerOptions) {
    this.#maxSamples = options.maxSamples
    this.#segmenter = options.vad
      ? new VadSegmenter(options.vad.frameSamples, SR, options.vad.segmenter)
      : undefined
  }

  /** The open utterance, if any. */
  get open(): TrackedUtterance | undefined {
    return this.#open
  }

  /** Samples received so far (the stream's timeline). */
  get received(): number {
    return this.#received
  }

  /** Samples held outside the open utterance (the VAD's pre-roll). */
  get heldSamples(): number {
    return this.#preroll.length
  }

  /** Non-speech samples since the last speech frame. */
  get silentSamples(): number {
    return this.#silentSamples
  }

  /** With a VAD: inside speech (an utterance is open and the VAD has not ended it). */
  get inSpeech(): boolean {
    return this.#segmenter?.inSpeech ?? false
  }

  /** Audio without a VAD: appended to the open utterance (opened if there is none). */
  push(samples: Float32Array): TrackerEvent[] {
    this.#ingest(samples)
    return this.#take()
  }

  /** One VAD frame and the VAD's decision on it. */
  pushFrame(frame: Float32Array, speech: boolean): TrackerEvent[] {
    const segmenter = this.#requireSegmenter()
    this.#received += frame.length
    if (this.#open) this.#append(this.#open, frame)
    else this.#preroll.append(frame)
    for (const event of segmenter.push(speech)) this.#onSegmenterEvent(event)
    const u = this.#open
    if (u) u.safeLength = Math.min(u.audio.length, Math.max(0, segmenter.confirmedUntil - u.start))
    else if (segmenter.state === 'silence') this.#trimPreroll()
    this.#silentSamples = speech ? 0 : this.#silentSamples + frame.length
    return this.#take()
  }

  /** The speaker finished a sentence (`vad_end`): close the open utterance now. */
  endUtterance(): TrackerEvent[] {
    this.#close('vad_end')
    this.#continueSpeech()
    return this.#take()
  }

  /** Drops the open utterance: it gets no final. */
  cancel(): TrackerEvent[] {
    const u = this.#open
    if (u) {
      this.#open = undefined
      this.#events.push({ type: 'drop', utterance: u })
      this.#continueSpeech()
    }
    return this.#take()
  }

  /** End of stream: the last samples (a partial VAD frame, or nothing) and the last utterance. */
  flush(rest: Float32Array = new Float32Array(0)): TrackerEvent[] {
    const segmenter = this.#segmenter
    if (segmenter) {
      this.#received += rest.length
      if (this.#open) this.#append(this.#open, rest)
      else this.#preroll.append(rest)
      this.#flushing = true
      for (const event of segmenter.flush(this.#received)) this.#onSegmenterEvent(event)
      this.#flushing = false
    } else if (rest.length > 0) {
      this.#ingest(rest)
    }
    this.#close('end')
    return this.#take()
  }

  #ingest(samples: Float32Array): void {
    const u = this.#open ?? this.#openAt(this.#received)
    this.#received += samples.length
    this.#append(u, samples)
    const open = this.#open!
    open.safeLength = open.audio.length
  }

  #take(): TrackerEvent[] {
    const events = this.#events
    this.#events = []
    return events
  }

  #requireSegmenter(): VadSegmenter {
    if (!this.#segmenter) throw new TypeError('pushFrame needs a tracker made with a VAD')
    return this.#segmenter
  }

  #openAt(start: number): TrackedUtterance {
    const u: TrackedUtterance = {
      id: this.#nextId++,
      start,
      audio: new SampleBuffer(),
      safeLength: 0,
      reason: undefined,
    }
    this.#open = u
    this.#events.push({ type: 'open', utterance: u })
    return u
  }

  /** Closes the open utterance: a final for it, or a drop when it has no audio. */
  #close(reason: FinalReason): void {
    const u = this.#open
    if (!u) return
    this.#open = undefined
    u.reason = reason
    u.safeLength = u.audio.length
    this.#events.push({ type: u.audio.length > 0 ? 'close' : 'drop', utterance: u })
  }

  /** After an utterance ends on request while the VAD still hears speech, a new one goes on. */
  #continueSpeech(): void {
    const segmenter = this.#segmenter
    if (!segmenter?.inSpeech) return
    segmenter.split(this.#received)
    this.#openAt(this.#received)
  }

  /** Splits an utterance that reached the maximum length at its quietest point near the end. */
  #split(u: TrackedUtterance): TrackedUtterance {
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
    const next = this.#openAt(u.start + cut)
    next.audio.append(rest)
    next.safeLength = Math.max(0, safe - cut)
    return next
  }

  #append(u: TrackedUtterance, samples: Float32Array): void {
    let offset = 0
    let current = u
    while (offset < samples.length) {
      const take = Math.min(this.#maxSamples - current.audio.length, samples.length - offset)
      current.audio.append(samples.subarray(offset, offset + take))
      offset += take
      if (current.audio.length >= this.#maxSamples) current = this.#split(current)
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
      this.#events.push({ type: 'speech_start', t: start / SR })
      const u = this.#openAt(start)
      u.audio.append(this.#preroll.view(start - this.#prerollStart))
      this.#preroll.clear()
      this.#prerollStart = this.#received
      return
    }
    const u = this.#open
    if (!u) return
    const keep = Math.max(0, event.sample - u.start)
    const rest = u.audio.slice(keep)
    u.audio.truncate(keep)
    this.#events.push({ type: 'speech_end', t: (u.start + keep) / SR })
    this.#close(this.#flushing ? 'end' : 'speech_end')
    this.#preroll.clear()
    this.#preroll.append(rest)
    this.#prerollStart = u.start + keep
  }
}
