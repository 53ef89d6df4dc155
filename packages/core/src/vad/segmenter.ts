import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'

/**
 * Turns per-frame speech decisions into utterances, like a pure state machine (after
 * ricky0123/vad's frame processor): speech must last `minSpeechMs` to count, ends after
 * `hangoverMs` of silence, and each utterance is widened by `prePaddingMs` before and
 * `postPaddingMs` after (never overlapping the previous one). Positions are sample indices
 * from the start of the stream.
 */
export interface VadSegmenterOptions {
  /** Speech frames needed before an utterance starts (default 150 ms). */
  minSpeechMs?: number
  /**
   * Silence that ends an utterance (default 250 ms: pauses between sentences of 300 ms
   * and more end an utterance, pauses inside a sentence mostly do not).
   */
  hangoverMs?: number
  /** Audio kept before the first speech frame (default 200 ms). */
  prePaddingMs?: number
  /** Audio kept after the last speech frame (default 150 ms; at most `hangoverMs`). */
  postPaddingMs?: number
}

export const DEFAULT_VAD_SEGMENTER_OPTIONS: Required<VadSegmenterOptions> = {
  minSpeechMs: 150,
  hangoverMs: 250,
  prePaddingMs: 200,
  postPaddingMs: 150,
}

export type SegmenterEvent = { type: 'speech_start'; sample: number } | { type: 'speech_end'; sample: number }

type State = 'silence' | 'pending' | 'speech'

export class VadSegmenter {
  readonly options: Required<VadSegmenterOptions>
  readonly frameSamples: number
  readonly sampleRate: number
  readonly #minSpeechFrames: number
  readonly #hangoverFrames: number
  readonly #prePadding: number
  readonly #postPadding: number
  #state: State = 'silence'
  #frame = 0 // index of the next frame
  #firstSpeechFrame = 0
  #lastSpeechFrame = 0
  #speechFrames = 0
  #silenceFrames = 0
  #lastEnd = 0 // sample where the previous utterance ended

  constructor(frameSamples: number, sampleRate: number, options: VadSegmenterOptions = {}) {
    const o = withDefaults(DEFAULT_VAD_SEGMENTER_OPTIONS, options)
    for (const [key, value] of Object.entries(o)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 60_000) {
        throw new WsError('invalid_config', `VAD segmenter: ${key} must be from 0 to 60000 ms, got ${value}`)
      }
    }
    if (o.postPaddingMs > o.hangoverMs) {
      throw new WsError('invalid_config', 'VAD segmenter: postPaddingMs cannot exceed hangoverMs')
    }
    if (!Number.isInteger(frameSamples) || frameSamples < 1) {
      throw new WsError(
        'invalid_config',
        `VAD segmenter: frameSamples must be a positive integer, got ${frameSamples}`,
      )
    }
    if (!Number.isInteger(sampleRate) || sampleRate < 1) {
      throw new WsError('invalid_config', `VAD segmenter: invalid sampleRate ${sampleRate}`)
    }
    this.options = o
    this.frameSamples = frameSamples
    this.sampleRate = sampleRate
    const frameMs = (frameSamples * 1000) / sampleRate
    this.#minSpeechFrames = Math.max(1, Math.ceil(o.minSpeechMs / frameMs - 1e-9))
    this.#hangoverFrames = Math.max(1, Math.ceil(o.hangoverMs / frameMs - 1e-9))
    this.#prePadding = Math.round((o.prePaddingMs * sampleRate) / 1000)
    this.#postPadding = Math.round((o.postPaddingMs * sampleRate) / 1000)
  }

  get state(): 'silence' | 'pending' | 'speech' {
    return this.#state
  }

  get inSpeech(): boolean {
    return this.#state === 'speech'
  }

  /** Samples consumed so far. */
  get position(): number {
    return this.#frame * this.frameSamples
  }

  /**
   * While in speech, the utterance surely extends to at least this sample (its end is at or
   * after it); outside speech, the current position.
   */
  get confirmedUntil(): number {
    if (this.#state !== 'speech') return this.position
    return Math.min(this.position, (this.#lastSpeechFrame + 1) * this.frameSamples + this.#postPadding)
  }

  /** Where the current utterance started (valid while {@link inSpeech}). */
  get utteranceStart(): number {
    return Math.max(this.#lastEnd, this.#firstSpeechFrame * this.frameSamples - this.#prePadding)
  }

  /** Feeds the decision for the next frame. */
  push(isSpeech: boolean): SegmenterEvent[] {
    const f = this.#frame++
    const events: SegmenterEvent[] = []
    switch (this.#state) {
      case 'silence':
        if (isSpeech) {
          this.#state = 'pending'
          this.#firstSpeechFrame = f
          this.#lastSpeechFrame = f
          this.#speechFrames = 1
          this.#silenceFrames = 0
          this.#confirm(events)
        }
        break
      case 'pending':
        if (isSpeech) {
          this.#speechFrames++
          this.#lastSpeechFrame = f
          this.#silenceFrames = 0
          this.#confirm(events)
        } else if (++this.#silenceFrames >= this.#hangoverFrames) {
          this.#state = 'silence' // too short: a misfire
        }
        break
      case 'speech':
        if (isSpeech) {
          this.#lastSpeechFrame = f
          this.#silenceFrames = 0
        } else if (++this.#silenceFrames >= this.#hangoverFrames) {
          events.push(this.#end())
        }
        break
    }
    return events
  }

  /**
   * Ends the stream after `totalSamples` samples. An open utterance ends there: the stream
   * stopped before its hangover could say speech was over. Speech still shorter than
   * `minSpeechMs` counts too, so a last short word is not lost.
   */
  flush(totalSamples: number = this.position): SegmenterEvent[] {
    const events: SegmenterEvent[] = []
    if (this.#state === 'pending') {
      this.#state = 'speech'
      events.push({ type: 'speech_start', sample: this.utteranceStart })
    }
    if (this.#state === 'speech') {
      const end = Math.max(this.utteranceStart, totalSamples)
      this.#state = 'silence'
      this.#lastEnd = end
      events.push({ type: 'speech_end', sample: end })
    }
    return events
  }

  /**
   * Ends the current utterance at `sample` (e.g. when it reached its maximum length) and
   * continues with a new one from there if speech goes on.
   */
  split(sample: number): void {
    if (this.#state !== 'speech') return
    this.#lastEnd = sample
    this.#firstSpeechFrame = Math.ceil(sample / this.frameSamples)
    this.#lastSpeechFrame = Math.max(this.#lastSpeechFrame, this.#firstSpeechFrame)
  }

  reset(): void {
    this.#state = 'silence'
    this.#frame = 0
    this.#speechFrames = 0
    this.#silenceFrames = 0
    this.#lastEnd = 0
  }

  #confirm(events: SegmenterEvent[]): void {
    if (this.#speechFrames < this.#minSpeechFrames) return
    this.#state = 'speech'
    events.push({ type: 'speech_start', sample: this.utteranceStart })
  }

  #end(): SegmenterEvent {
    const end = Math.max(
      this.utteranceStart,
      Math.min(this.position, (this.#lastSpeechFrame + 1) * this.frameSamples + this.#postPadding),
    )
    this.#state = 'silence'
    this.#lastEnd = end
    return { type: 'speech_end', sample: end }
  }
}
