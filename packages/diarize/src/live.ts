import { type Segment, WsError, withDefaults } from '@ws/core'
import { attributeSpeakers } from './attribute.js'
import { checkWindowing, meanDirection, speakerLetter } from './diarize.js'
import { cosine, l2normalize, MIN_WINDOW_SAMPLES, type SpeakerEmbedder } from './embedder.js'
import { bestPath } from './path.js'

const SR = 16_000
/**
 * The cosine two 1.5 s windows of one voice typically have (CAM++ on the real voices of the
 * tests); it scales a window's fit to a young centroid against a mature one ({@link LiveDiarizer}).
 */
const SAME_VOICE_COSINE = 0.45
/** What a change of speaker inside one final costs in the path of best fit ({@link bestPath}). */
const SWITCH_COST = 0.2
/**
 * What it costs where the final's words pause (0.3 s or more) between the two windows: people
 * take turns at pauses, so a window or two of another voice after one is enough to switch.
 */
const PAUSE_SWITCH_COST = 0.05
/**
 * Share of a window the final's speech must cover for the window to start a speaker or move a
 * centroid: a window that is a third or more pause, reverb or room tone is more the room's
 * embedding than a voice's (such windows, after a turn, once started a speaker of their own).
 */
const FULL_COVERAGE = 2 / 3

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
  /**
   * Runs each embedding request (default: at once). Requests go one at a time, each with the
   * windows waiting by then (at most two): a server passes a turn at its inference scheduler,
   * so that embeddings never run alongside a transcription and slow it down.
   */
  schedule?: <T>(work: () => Promise<T>) => Promise<T>
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
  /** Its embedding has settled. */
  done?: boolean
}

/** A window being assigned: its embedding and the share of it the final's speech covers. */
interface Fresh {
  w: Window
  e: Float32Array
  coverage: number
}

/**
 * Speaker labels for a live stream, decided as its finals come: audio goes in as it arrives
 * ({@link push}) and is embedded window by window in the embedder's worker meanwhile (one
 * request at a time, through `schedule`); {@link label} then gives the final's words speakers
 * by online clustering against running centroids. A final waits for windows still embedding
 * only when fewer than two, or fewer than half, of its windows are ready, or its words pause
 * after the last ready one: otherwise the last ones (their audio arrived just before the
 * final) are left to later finals and revisions.
 *
 * A window whose cosine with some speaker's centroid (the running mean of their windows) reaches
 * `threshold` matches a known voice; the windows of a final that match nobody become a new
 * speaker (`A`, `B`, … in order of first appearance) when there are at least two of them or
 * they are all of the final, and one of them is at least two thirds speech: a final shorter
 * than a window (1.5 s), or a window that is mostly pause or reverb, never starts a speaker once
 * there is one, nor moves a centroid. The final's other windows take known speakers along the
 * path of best fit ({@link bestPath}): a window's fit is its cosine with the centroid scaled by
 * the centroid's size (a speaker heard for two windows is not outscored by one heard for a
 * minute just because a long mean is smoother), and a change of speaker inside the final costs
 * 0.2 (0.05 where the words pause for 0.3 s or more), so the label changes where the next
 * windows clearly belong to another voice, or at a pause, rather than at each window that
 * wavers. A word takes the label of the window that holds most of its own stretch of speech. A
 * label, once given to a window, is kept: a later revision of the same audio gets the same
 * speakers, and a new speaker never relabels earlier words.
 */
export class LiveDiarizer {
  readonly options: Required<Omit<LiveDiarizerOptions, 'schedule'>>
  #schedule: <T>(work: () => Promise<T>) => Promise<T>
  #queue: { audio: Float32Array; resolve: (e: Float32Array | undefined) => void }[] = []
  /** Embedding requests made and not yet settled (one running, one waiting for its turn). */
  #requests = 0
  #waiting = false
  #embedder: SpeakerEmbedder
  #chunks: { start: number; samples: Float32Array }[] = []
  #received = 0
  #nextWindow = 0
  #windows: Window[] = []
  #centroids = new Map<string, Float32Array>()
  #counts = new Map<string, number>()
  #closed = false
  #onClose!: () => void
  readonly #closing = new Promise<undefined>((resolve) => {
    this.#onClose = () => resolve(undefined)
  })

  constructor(embedder: SpeakerEmbedder, options: LiveDiarizerOptions = {}) {
    const { schedule = (work) => work(), ...rest } = options
    const o = withDefaults(LIVE_DIARIZER_DEFAULTS, rest)
    checkWindowing(o)
    if (!(o.threshold > -1 && o.threshold < 1))
      throw new WsError('invalid_config', 'threshold is above -1 and below 1')
    if (!(Number.isInteger(o.maxSpeakers) && o.maxSpeakers >= 1))
      throw new WsError('invalid_config', 'maxSpeakers is an integer of at least 1')
    if (!(o.keepSeconds >= o.windowSeconds * 2))
      throw new WsError('invalid_config', 'keepSeconds is at least two windows')
    if (!(o.minRms >= 0 && o.minRms < 1)) throw new WsError('invalid_config', 'minRms is from 0 to below 1')
    this.#embedder = embedder
    this.#schedule = schedule
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
    let own = this.#windows.filter((w) => coverage(w, spans) >= 0.5)
    const from = (spans[0] as Span).start
    const to = (spans.at(-1) as Span).end
    if (own.length === 0) {
      // Shorter than a window, or between the grid's windows: one window over the final itself.
      const start = Math.max(from, to - this.options.windowSeconds)
      const w = this.#embed(Math.round(start * SR), Math.round(to * SR), true)
      own = [w]
    }
    // The last window or two may still be embedding when the final comes: when at least two
    // and half of the final's windows are ready, its words are labelled by those, at no wait,
    // unless the speech pauses after the last of them (the words after a pause may be another
    // voice's: an answer the final joined to the turn before it).
    const ready = own.filter((w) => w.done)
    const lastReady = Math.max(...ready.map(centre))
    const pausesAfter = spans.some((s, i) => i > 0 && s.start > lastReady)
    if (ready.length >= 2 && ready.length * 2 >= own.length && !pausesAfter) own = ready
    // close() settles a label still waiting for its windows.
    const embeddings = await Promise.race([Promise.all(own.map((w) => w.embedding)), this.#closing])
    if (this.#closed || !embeddings) throw new WsError('closed', 'The live diarizer is closed')
    this.#assign(own, embeddings, spans)
    const labelled = own.filter((w) => w.speaker !== undefined)
    const fallback = labelled[0]?.speaker ?? this.#centroids.keys().next().value
    // A word takes the speaker of a window around it, preferring the one that holds most of the
    // word's own stretch of speech (a window across a pause holds two people's audio), then the
    // one centred nearest it.
    const speakerOf = (start: number, end: number) => {
      const mid = (start + end) / 2
      const span = spans.find((s) => s.start <= mid && mid <= s.end) ?? { start, end }
      let best: Window | undefined
      let bestScore = Number.POSITIVE_INFINITY
      for (const w of labelled) {
        const inSpan = Math.max(0, Math.min(w.end, span.end) - Math.max(w.start, span.start))
        const score =
          (w.start <= mid && mid <= w.end ? 0 : 1000) +
          10 * Math.round((w.end - w.start - inSpan) / 0.1) +
          Math.abs((w.start + w.end) / 2 - mid)
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
    for (const q of this.#queue.splice(0)) q.resolve(undefined)
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
        ? new Promise<Float32Array | undefined>((resolve) => {
            this.#queue.push({ audio, resolve })
            this.#request()
          })
        : Promise.resolve(undefined)
    const w: Window = { start: a / SR, end: b / SR, embedding, ...(always ? { short: true } : {}) }
    void embedding.then(() => {
      w.done = true
    })
    return w
  }

  /**
   * Sends the windows waiting (at most two) as one embedding request. While one request runs,
   * the next already waits for its turn: a turn given back with nothing waiting goes to
   * background work (a revision, seconds of it), and the windows that arrived meanwhile would
   * wait behind it — finals waiting for their labels fell seconds behind the speech.
   */
  #request(): void {
    if (this.#closed || this.#waiting || this.#requests >= 2 || this.#queue.length === 0) return
    this.#requests++
    this.#waiting = true
    let started = false
    let batch: { audio: Float32Array; resolve: (e: Float32Array | undefined) => void }[] = []
    const work = async () => {
      started = true
      this.#waiting = false
      batch = this.#queue.splice(0, 2)
      this.#request()
      if (batch.length === 0) return
      const out = await this.#embedder.embed(batch.map((q) => q.audio)).catch(() => [])
      for (const [i, q] of batch.entries()) {
        const e = out[i]
        q.resolve(e ? l2normalize(e) : undefined)
      }
    }
    this.#schedule(work)
      .catch(() => {
        if (!started) this.#waiting = false
        // The turn was refused (or the work failed): these windows stay unembedded.
        for (const q of batch.length > 0 ? batch : this.#queue.splice(0)) q.resolve(undefined)
      })
      .finally(() => {
        this.#requests--
        this.#request()
      })
  }

  /**
   * How well a window fits a speaker: its cosine with the speaker's running centroid, scaled so
   * that a voice scores alike against a young centroid (a window or two: noisy, so lower
   * cosines) and a mature one (the mean of many windows).
   */
  #fit(e: Float32Array, speaker: string): number {
    const n = Math.max(1, this.#counts.get(speaker) ?? 1)
    const c = this.#centroids.get(speaker) as Float32Array
    return cosine(e, c) * Math.sqrt((1 + (n - 1) * SAME_VOICE_COSINE) / n)
  }

  /**
   * Online clustering of a final's windows against the running centroids. Only windows the
   * final's speech mostly covers ({@link FULL_COVERAGE}) start a speaker or move a centroid;
   * the others are labelled by their fit alone.
   */
  #assign(windows: Window[], embeddings: (Float32Array | undefined)[], spans: readonly Span[]): void {
    const fresh: Fresh[] = windows
      .map((w, i) => ({ w, e: embeddings[i] as Float32Array, coverage: coverage(w, spans) }))
      .filter((x) => x.w.speaker === undefined && x.e)
    if (fresh.length === 0) return
    const known = [...this.#centroids.keys()]
    const full = (x: Fresh) => !x.w.short && x.coverage >= FULL_COVERAGE
    /** Some known voice is within `threshold` (raw cosine) of `e`. */
    const matches = (e: Float32Array) =>
      known.some((k) => cosine(e, this.#centroids.get(k) as Float32Array) >= this.options.threshold)
    const unmatched = fresh.filter((x) => !matches(x.e))
    let newcomer: string | undefined
    if (unmatched.length > 0) {
      if (
        known.length === 0 ||
        (!matches(meanDirection(unmatched.map((x) => x.e))) &&
          known.length < this.options.maxSpeakers &&
          unmatched.some(full) &&
          (unmatched.length >= 2 || unmatched.length === fresh.length))
      )
        newcomer = speakerLetter(known.length)
    }
    // The windows that start a new speaker are theirs; the others take the known speakers
    // along the path of best fit, a change of speaker inside the final costing SWITCH_COST
    // (PAUSE_SWITCH_COST where the speech pauses between the two windows).
    const isNew = new Set(newcomer ? unmatched : [])
    const labels = newcomer ? [...known, newcomer] : known
    // A newcomer's window can only be theirs; any other window only a known speaker's.
    const scores = fresh.map((x) =>
      labels.map((k) => {
        if ((k === newcomer) !== isNew.has(x)) return Number.NEGATIVE_INFINITY
        return k === newcomer ? 0 : this.#fit(x.e, k)
      }),
    )
    const costs = fresh.slice(1).map((x, i) => {
      const a = centre((fresh[i] as Fresh).w)
      const b = centre(x.w)
      const paused = spans.some((s, j) => j > 0 && (spans[j - 1] as Span).end < b && s.start > a)
      return paused ? PAUSE_SWITCH_COST : SWITCH_COST
    })
    const path = bestPath(scores, costs)
    fresh.forEach((x, i) => {
      x.w.speaker = labels[path[i] as number]
    })
    if (newcomer) this.#centroids.set(newcomer, new Float32Array((fresh[0] as Fresh).e.length))
    // A new speaker's centroid starts from all their windows if none is full.
    const seedAll = newcomer !== undefined && !fresh.some((x) => x.w.speaker === newcomer && full(x))
    for (const x of fresh) {
      const speaker = x.w.speaker as string
      if (!full(x) && !(seedAll && speaker === newcomer)) continue
      const c = this.#centroids.get(speaker) as Float32Array
      for (let i = 0; i < c.length; i++) c[i] = (c[i] as number) + (x.e[i] as number)
      this.#counts.set(speaker, (this.#counts.get(speaker) ?? 0) + 1)
    }
  }
}

interface Span {
  start: number
  end: number
}

const centre = (w: Span) => (w.start + w.end) / 2

/** Share of window `w` that the spans cover. */
function coverage(w: Span, spans: readonly Span[]): number {
  let sum = 0
  for (const s of spans) sum += Math.max(0, Math.min(w.end, s.end) - Math.max(w.start, s.start))
  return sum / (w.end - w.start)
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
