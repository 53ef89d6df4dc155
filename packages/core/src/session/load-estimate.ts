import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'

export interface LoadEstimateOptions {
  /** How far back the estimate looks, in milliseconds (default 30 000). */
  windowMs?: number
  /** Audio seconds the window must hold before the estimate counts (default 2). */
  minAudioSeconds?: number
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number
}

export const DEFAULT_LOAD_ESTIMATE_OPTIONS = {
  windowMs: 30_000,
  minAudioSeconds: 2,
  now: () => performance.now(),
} as const satisfies LoadEstimateOptions

/** Observations are summed per bucket of this many milliseconds. */
const BUCKET_MS = 1000

interface Bucket {
  at: number
  busySeconds: number
  audioSeconds: number
}

/**
 * The backend time that one second of streamed audio costs, over a sliding window: the
 * seconds the backend spent on finals divided by the seconds of audio the sessions sent in
 * the same window. Measured per second of audio — silence and pauses included — rather than
 * per final, so a final's fixed overhead is spread over the stream it came from: sessions of
 * short utterances (0.5 s commands cost 0.4–0.7 s of processing per second of utterance on
 * tiny.en) are not taken for sessions that need most of the backend.
 *
 * Pure logic: driven by `observeWork` and `observeAudio`, read with `perAudioSecond`.
 */
export class LoadEstimate {
  readonly options: Required<LoadEstimateOptions>
  #buckets: Bucket[] = []

  constructor(options: LoadEstimateOptions = {}) {
    const o = withDefaults(DEFAULT_LOAD_ESTIMATE_OPTIONS, options)
    if (!(o.windowMs >= BUCKET_MS)) throw new WsError('invalid_config', `windowMs must be ≥ ${BUCKET_MS}`)
    if (!(o.minAudioSeconds > 0)) throw new WsError('invalid_config', 'minAudioSeconds must be > 0')
    this.options = o
  }

  /** The backend spent `seconds` on work that streamed audio needs (a final). */
  observeWork(seconds: number): void {
    if (seconds > 0) this.#bucket().busySeconds += seconds
  }

  /** Sessions sent `seconds` of audio. */
  observeAudio(seconds: number): void {
    if (seconds > 0) this.#bucket().audioSeconds += seconds
  }

  /**
   * Backend seconds per audio second over the window; undefined while the window holds less
   * than `minAudioSeconds` of audio (too little to say, or nobody streamed for a while).
   */
  get perAudioSecond(): number | undefined {
    this.#prune()
    const { busy, audio } = this.#totals()
    return this.#ratio(busy, audio)
  }

  /**
   * When, with nothing new observed, `fits(estimate)` would first hold as old buckets leave
   * the window, in milliseconds from now (0 if it holds now).
   */
  msUntil(fits: (perAudioSecond: number | undefined) => boolean): number {
    if (fits(this.perAudioSecond)) return 0
    let { busy, audio } = this.#totals()
    const now = this.options.now()
    for (const b of this.#buckets) {
      busy -= b.busySeconds
      audio -= b.audioSeconds
      if (fits(this.#ratio(busy, audio)))
        return Math.max(0, Math.ceil(b.at + BUCKET_MS + this.options.windowMs - now))
    }
    return this.options.windowMs
  }

  #totals(): { busy: number; audio: number } {
    let busy = 0
    let audio = 0
    for (const b of this.#buckets) {
      busy += b.busySeconds
      audio += b.audioSeconds
    }
    return { busy, audio }
  }

  #ratio(busy: number, audio: number): number | undefined {
    return audio >= this.options.minAudioSeconds ? busy / audio : undefined
  }

  #bucket(): Bucket {
    const now = this.options.now()
    const at = Math.floor(now / BUCKET_MS) * BUCKET_MS
    let last = this.#buckets.at(-1)
    if (!last || last.at !== at) {
      last = { at, busySeconds: 0, audioSeconds: 0 }
      this.#buckets.push(last)
      this.#prune()
    }
    return last
  }

  #prune(): void {
    const oldest = this.options.now() - this.options.windowMs
    let drop = 0
    while (drop < this.#buckets.length && this.#buckets[drop]!.at + BUCKET_MS <= oldest) drop++
    if (drop > 0) this.#buckets.splice(0, drop)
  }
}
