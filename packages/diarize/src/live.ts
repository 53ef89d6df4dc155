import { type Segment, WsError } from '@ws/core'
import { attributeSpeakers } from './attribute.js'
import { checkWindowing, meanDirection, speakerLetter } from './diarize.js'
import { cosine, l2normalize, MIN_WINDOW_SAMPLES, type SpeakerEmbedder } from './embedder.js'

const SR = 16_000
/** How much nearer (cosine) another speaker must be for a final's label to change mid-way. */
const SWITCH_MARGIN = 0.05

export interface LiveDiarizerOptions {
  /** Embedding window, in seconds (default 1.5), and hop between windows (default 0.75). */
  windowSeconds?: number
  hopSeconds?: number
  /**
   * Cosine similarity a window needs with a speaker's running centroid to be theirs
   * (default 0.3, chosen on conversations of real voices: see the package README).
   */
  threshold?: number
  /** Most speakers one session gets; past it, new voices go to the nearest one (default 8). */
  maxSpeakers?: number
  /**
   * Audio kept for labelling late finals, revisions and short utterances, in seconds (default
   * 60; at least the longest a final can lag its audio, e.g. the server's pending limit plus
   * its longest utterance). Older audio is not labelled by its own voice.
   */
  keepSeconds?: number
  /** Windows quieter than this RMS (0–1, default 0.003, about −50 dBFS) are not embedded. */
  minRms?: number
}

/** Defaults of {@link LiveDiarizerOptions}. */
export const LIVE_DIARIZER_DEFAULTS = {
  windowSeconds: 1.5,
  hopSeconds: 0.75,
  threshold: 0.3,
  maxSpeakers: 8,
  keepSeconds: 60,
  minRms: 0.003,
} as const

interface Window {
  start: number
  end: number
  embedding: Promise<Float32Array | undefined>
  speaker?: string
  /** Shorter than a window: a final's own audio, too little to start a speaker on. */
  short?: boolean
}

/**
 * Speaker labels for a live stream, decided as its finals come: audio goes in as it arrives
 * ({@link push}) and is embedded window by window in the embedder's worker meanwhile, so a
 * final waits only for its last window or two; {@link label} then gives the final's words
 * speakers by online clustering against running centroids.
 *
 * A window close enough to a speaker's centroid is theirs (the centroid moves with it); the
 * windows of a final that match nobody become a new speaker (`A`, `B`, … in order of first
 * appearance) when there are at least two of them or they are all of a final at least a window
 * long, else they go to the nearest speaker: a final shorter than a window (1.5 s) never
 * starts a speaker once there is one. A label, once given to a window, is kept: a later revision of
 * the same audio gets the same speakers, and a new speaker never relabels earlier words.
 */
export class LiveDiarizer {
  readonly options: Required<LiveDiarizerOptions>
  #embedder: SpeakerEmbedder
  #chunks: { start: number; samples: Float32Array }[] = []
  #received = 0
  #nextWindow = 0
  #windows: Window[] = []
  #centroids = new Map<string, Float32Array>()
  #closed = false
  #onClose!: () => void
  readonly #closing = new Promise<undefined>((resolve) => {
    this.#onClose = () => resolve(undefined)
  })

  constructor(embedder: SpeakerEmbedder, options: LiveDiarizerOptions = {}) {
    const o = { ...LIVE_DIARIZER_DEFAULTS, ...options }
    checkWindowing(o)
    if (!(o.threshold > -1 && o.threshold < 1))
      throw new WsError('invalid_config', 'threshold is above -1 and below 1')
    if (!(Number.isInteger(o.maxSpeakers) && o.maxSpeakers >= 1))
      throw new WsError('invalid_config', 'maxSpeakers is an integer of at least 1')
    if (!(o.keepSeconds >= o.windowSeconds * 2))
      throw new WsError('invalid_config', 'keepSeconds is at least two windows')
    if (!(o.minRms >= 0 && o.minRms < 1)) throw new WsError('invalid_config', 'minRms is from 0 to below 1')
    this.#embedder = embedder
    this.options = o
  }

  /** The speakers so far, in order of first appearance. */
  get speakers(): string[] {
    return [...this.#centroids.keys()]
  }

  /** Adds the stream's next 16 kHz mono samples; complete windows start embedding. The samples are not kept past `keepSeconds`. */
  push(samples: Float32Array): void {
    if (this.#closed || samples.length === 0) return
    this.#chunks.push({ start: this.#received, samples })
    this.#received += samples.length
    const win = Math.round(this.options.windowSeconds * SR)
    const hop = Math.round(this.options.hopSeconds * SR)
    while (this.#nextWindow + win <= this.#received) {
      const start = this.#nextWindow
      this.#nextWindow += hop
      this.#windows.push(this.#embed(start, start + win))
    }
    const keep = this.#received - Math.round(this.options.keepSeconds * SR)
    while (this.#chunks.length > 1 && (this.#chunks[1] as { start: number }).start <= keep)
      this.#chunks.shift()
    while (this.#windows.length > 0 && (this.#windows[0] as Window).end * SR < keep) this.#windows.shift()
  }

  /**
   * The segments of a final (or revision) with `speaker` on each segment and word; a segment
   * in which the speaker changes is split at the word boundary. Times are stream seconds.
   */
  async label(segments: readonly Segment[]): Promise<Segment[]> {
    if (this.#closed) throw new WsError('closed', 'The live diarizer is closed')
    const spans = speechSpans(segments)
    if (spans.length === 0) return segments.map((s) => ({ ...s }))
    const covered = (w: { start: number; end: number }) =>
      spans.reduce((sum, s) => sum + Math.max(0, Math.min(w.end, s.end) - Math.max(w.start, s.start)), 0)
    let own = this.#windows.filter((w) => covered(w) >= (w.end - w.start) / 2)
    const from = (spans[0] as Span).start
    const to = (spans.at(-1) as Span).end
    if (own.length === 0) {
      // Shorter than a window, or between the grid's windows: one window over the final itself.
      const start = Math.max(from, to - this.options.windowSeconds)
      const w = this.#embed(Math.round(start * SR), Math.round(to * SR), true)
      own = [w]
    }
    // close() settles a label still waiting for its windows.
    const embeddings = await Promise.race([Promise.all(own.map((w) => w.embedding)), this.#closing])
    if (this.#closed || !embeddings) throw new WsError('closed', 'The live diarizer is closed')
    this.#assign(own, embeddings)
    const labelled = own.filter((w) => w.speaker !== undefined)
    const fallback = labelled[0]?.speaker ?? this.#centroids.keys().next().value
    const speakerOf = (start: number, end: number) => {
      const mid = (start + end) / 2
      let best: Window | undefined
      let bestScore = Number.POSITIVE_INFINITY
      for (const w of labelled) {
        const score = Math.abs((w.start + w.end) / 2 - mid) + (w.start <= mid && mid <= w.end ? 0 : 1000)
        if (score < bestScore) {
          bestScore = score
          best = w
        }
      }
      return best?.speaker ?? fallback
    }
    return attributeSpeakers(segments, speakerOf)
  }

  /** Stops: windows still embedding are dropped, later calls fail with `closed`. Idempotent. */
  close(): void {
    this.#closed = true
    this.#onClose()
    this.#chunks = []
    this.#windows = []
  }

  /** The audio from sample `a` to `b` (as much of it as is kept). */
  #slice(a: number, b: number): Float32Array {
    const out = new Float32Array(Math.max(0, b - a))
    for (const c of this.#chunks) {
      const lo = Math.max(a, c.start)
      const hi = Math.min(b, c.start + c.samples.length)
      if (hi > lo) out.set(c.samples.subarray(lo - c.start, hi - c.start), lo - a)
    }
    return out
  }

  #embed(a: number, b: number, always = false): Window {
    // Audio no longer kept (a final later than keepSeconds) is not embedded as silence.
    const kept = this.#chunks[0]?.start ?? 0
    const audio = a < kept ? new Float32Array(0) : this.#slice(Math.max(0, a), b)
    let energy = 0
    for (const x of audio) energy += x * x
    const loud = audio.length > 0 && Math.sqrt(energy / audio.length) >= this.options.minRms
    const embedding =
      audio.length >= MIN_WINDOW_SAMPLES && (loud || always)
        ? this.#embedder.embed([audio]).then(
            ([e]) => (e ? l2normalize(e) : undefined),
            () => undefined,
          )
        : Promise.resolve(undefined)
    return { start: a / SR, end: b / SR, embedding, ...(always ? { short: true } : {}) }
  }

  /** Online clustering of a final's windows against the running centroids. */
  #assign(windows: Window[], embeddings: (Float32Array | undefined)[]): void {
    type Fresh = { w: Window; e: Float32Array | undefined }
    const fresh: Fresh[] = windows
      .map((w, i) => ({ w, e: embeddings[i] }))
      .filter((x) => x.w.speaker === undefined && x.e)
    if (fresh.length === 0) return
    const nearest = (e: Float32Array) => {
      let best: string | undefined
      let sim = Number.NEGATIVE_INFINITY
      for (const [speaker, c] of this.#centroids) {
        const s = cosine(e, c)
        if (s > sim) {
          sim = s
          best = speaker
        }
      }
      return { best, sim }
    }
    const unmatched: typeof fresh = []
    let previous: string | undefined
    for (const x of fresh) {
      const e = x.e as Float32Array
      const n = nearest(e)
      // Within a final the speaker changes only when the new voice is clearly nearer.
      const stay = previous === undefined ? undefined : this.#centroids.get(previous)
      if (
        stay &&
        n.best !== previous &&
        cosine(e, stay) >= Math.max(this.options.threshold, n.sim - SWITCH_MARGIN)
      )
        x.w.speaker = previous
      else if (n.best !== undefined && n.sim >= this.options.threshold) x.w.speaker = n.best
      else unmatched.push(x)
      previous = x.w.speaker ?? previous
    }
    if (unmatched.length > 0) {
      const m = meanDirection(unmatched.map((x) => x.e as Float32Array))
      const n = nearest(m)
      const isNew =
        n.best === undefined ||
        (n.sim < this.options.threshold &&
          this.#centroids.size < this.options.maxSpeakers &&
          (unmatched.length >= 2 || (unmatched.length === fresh.length && !unmatched[0]?.w.short)))
      const speaker = isNew ? speakerLetter(this.#centroids.size) : undefined
      if (speaker) this.#centroids.set(speaker, new Float32Array(m.length))
      for (const x of unmatched) x.w.speaker = speaker ?? nearest(x.e as Float32Array).best
    }
    // A lone window between two of another speaker's is theirs (a word at a turn's edge).
    for (let i = 1; i < fresh.length - 1; i++) {
      const [a, b, c] = [fresh[i - 1], fresh[i], fresh[i + 1]] as [Fresh, Fresh, Fresh]
      if (a.w.speaker === c.w.speaker && b.w.speaker !== a.w.speaker) b.w.speaker = a.w.speaker
    }
    for (const x of fresh) {
      const c = this.#centroids.get(x.w.speaker as string) as Float32Array
      const e = x.e as Float32Array
      for (let i = 0; i < c.length; i++) c[i] = (c[i] as number) + (e[i] as number)
    }
  }
}

interface Span {
  start: number
  end: number
}

/** Where a final has speech: its words (pauses under 0.3 s bridged), else its segments. */
function speechSpans(segments: readonly Segment[]): Span[] {
  const words = segments.flatMap((s) => (s.words?.length ? s.words : [s]))
  const spans: Span[] = []
  for (const w of [...words].sort((a, b) => a.start - b.start)) {
    // A word the model gave no duration (a sound, "***") still happened: 0.2 s around it.
    const [start, end] = w.end > w.start ? [w.start, w.end] : [Math.max(0, w.start - 0.1), w.start + 0.1]
    const last = spans.at(-1)
    if (last && start - last.end < 0.3) last.end = Math.max(last.end, end)
    else spans.push({ start, end })
  }
  return spans
}
