import {
  type SpeechRegionOptions,
  speechRegions,
  type TimeRange,
  throwIfAborted,
  type VadBackend,
  WsError,
  withDefaults,
} from '@ws/core'
import { WebRtcVad } from '@ws/vad-webrtc'
import { type ClusterOptions, clusterInWorker, validateSpeakerCounts } from './cluster.js'
import { cosine, l2normalize, MIN_WINDOW_SAMPLES, type SpeakerEmbedder } from './embedder.js'

/** A reference recording of a known speaker (a few seconds of them alone). */
export interface KnownSpeaker {
  name: string
  /** 16 kHz mono samples in [-1, 1]. */
  audio: Float32Array
}

export interface DiarizeOptions extends ClusterOptions, SpeechRegionOptions {
  /** Where speech is, in seconds (default: found by `vad`). */
  speech?: TimeRange[]
  /** The VAD that finds speech when `speech` is not given (default: WebRTC's, mode 3). */
  vad?: VadBackend
  /** Embedding window (default 1.5 s) and hop between windows (default 0.75 s). */
  windowSeconds?: number
  hopSeconds?: number
  /** Speakers to name: a cluster whose voice matches a reference gets its name. */
  knownSpeakers?: KnownSpeaker[]
  /** Cosine similarity a cluster needs with a reference to take its name (default 0.35). */
  nameThreshold?: number
  signal?: AbortSignal
}

/**
 * Most windows one call clusters (about 15 minutes of speech): the clustering, in a worker
 * thread of its own, is O(windows³) (measured on a 2.4 GHz EPYC core: 94 ms at 150 windows,
 * 181 ms at 300, 1.2 s at 600; 1,200 windows take about 8–10 s).
 */
export const MAX_WINDOWS = 1200

const EMBED_PIECE = 32

/** Defaults of {@link DiarizeOptions}. */
export const DIARIZE_DEFAULTS = { windowSeconds: 1.5, hopSeconds: 0.75, nameThreshold: 0.35 } as const

/** One speaker's stretch of speech. */
export interface SpeakerTurn {
  speaker: string
  start: number
  end: number
}

export interface Diarization {
  /** Turns in time order; a speaker's consecutive speech regions stay separate turns. */
  turns: SpeakerTurn[]
  /** The speakers, in order of first appearance: known names, else `A`, `B`, … */
  speakers: string[]
  /** Each speaker's mean embedding (unit length), for matching later audio. */
  centroids: Map<string, Float32Array>
}

/** Speaker labels as OpenAI gives them: A … Z, then AA, AB, … */
export function speakerLetter(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : speakerLetter(Math.floor(i / 26) - 1) + speakerLetter(i % 26)
}

/** Windows over the speech regions: a short region is one window, a long one is covered with hops. */
export function embeddingWindows(
  speech: readonly TimeRange[],
  windowSeconds: number,
  hopSeconds: number,
): TimeRange[] {
  const out: TimeRange[] = []
  for (const r of speech) {
    if (r.end - r.start <= windowSeconds) {
      if ((r.end - r.start) * 16_000 >= MIN_WINDOW_SAMPLES) out.push({ start: r.start, end: r.end })
      continue
    }
    let start = r.start
    while (start + windowSeconds < r.end) {
      out.push({ start, end: start + windowSeconds })
      start += hopSeconds
    }
    out.push({ start: r.end - windowSeconds, end: r.end })
  }
  return out
}

const slice = (audio: Float32Array, r: TimeRange) =>
  audio.subarray(
    Math.max(0, Math.round(r.start * 16_000)),
    Math.min(audio.length, Math.round(r.end * 16_000)),
  )

/** Checks embedding windows of 0.5–10 s and a hop above 0, at most a window (`invalid_config`). */
export function checkWindowing(o: { windowSeconds: number; hopSeconds: number }): void {
  if (
    !(o.windowSeconds >= 0.5 && o.windowSeconds <= 10) ||
    !(o.hopSeconds > 0 && o.hopSeconds <= o.windowSeconds)
  )
    throw new WsError(
      'invalid_config',
      'windowSeconds is 0.5 to 10 and hopSeconds above 0, at most windowSeconds',
    )
}

/** The mean direction of embeddings: the sum of their unit vectors, made unit length. */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]?.length ?? 0)
  for (const v of vectors.map(l2normalize))
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (v[i] as number)
  return l2normalize(out)
}

/** The embedding of a reference clip: the mean over its windows (the whole clip if short). */
export async function referenceEmbedding(
  embedder: SpeakerEmbedder,
  audio: Float32Array,
  signal?: AbortSignal,
) {
  const seconds = audio.length / 16_000
  const windows = embeddingWindows(
    [{ start: 0, end: seconds }],
    DIARIZE_DEFAULTS.windowSeconds,
    DIARIZE_DEFAULTS.hopSeconds,
  )
  if (windows.length === 0)
    throw new WsError('invalid_audio', 'A known speaker’s reference clip is shorter than 25 ms')
  return meanDirection(
    await embedder.embed(
      windows.map((w) => slice(audio, w)),
      signal ? { signal } : {},
    ),
  )
}

/**
 * Who spoke when in a 16 kHz mono recording: speech regions, speaker embeddings of
 * overlapping windows, spectral clustering (the speaker count from the eigengap, or as
 * hinted), then each 10 ms of speech takes the label of the windows around it.
 */
export async function diarize(
  embedder: SpeakerEmbedder,
  audio: Float32Array,
  options: DiarizeOptions = {},
): Promise<Diarization> {
  validateSpeakerCounts(options)
  const o = withDefaults(DIARIZE_DEFAULTS, options)
  checkWindowing(o)
  throwIfAborted(o.signal, 'diarization')
  let speech = o.speech
  if (!speech) {
    const vad = o.vad ?? (await WebRtcVad.create())
    try {
      speech = await speechRegions(audio, vad, o)
    } finally {
      if (!o.vad) await vad.close?.()
    }
  }
  const windows = embeddingWindows(speech, o.windowSeconds, o.hopSeconds)
  if (windows.length > MAX_WINDOWS)
    throw new WsError(
      'audio_too_large',
      `${windows.length} embedding windows: diarize() clusters at most ${MAX_WINDOWS} (about 15 minutes of speech at the default hop) in one call`,
    )
  if (windows.length === 0) return { turns: [], speakers: [], centroids: new Map() }
  const signal = o.signal ? { signal: o.signal } : {}
  // In pieces of 32 windows: a live session sharing the embedder gets its windows in between.
  const embeddings: Float32Array[] = []
  for (let i = 0; i < windows.length; i += EMBED_PIECE)
    embeddings.push(
      ...(await embedder.embed(
        windows.slice(i, i + EMBED_PIECE).map((w) => slice(audio, w)),
        signal,
      )),
    )
  const { labels, count } = await clusterInWorker(embeddings, { ...o, windows }, o.signal)

  const centroids = Array.from({ length: count }, (_, c) =>
    meanDirection(embeddings.filter((_, i) => labels[i] === c)),
  )
  const names = Array.from({ length: count }, () => '')
  if (o.knownSpeakers?.length) {
    const refs = []
    for (const k of o.knownSpeakers)
      refs.push({ name: k.name, e: await referenceEmbedding(embedder, k.audio, o.signal) })
    const pairs = refs.flatMap((r) => centroids.map((c, i) => ({ name: r.name, i, sim: cosine(r.e, c) })))
    pairs.sort((a, b) => b.sim - a.sim)
    const taken = new Set<string>()
    for (const p of pairs) {
      if (p.sim < o.nameThreshold || taken.has(p.name) || names[p.i]) continue
      names[p.i] = p.name
      taken.add(p.name)
    }
  }
  let letter = 0
  const label = names.map((n) => n || speakerLetter(letter++))

  // Each 10 ms of speech takes the label of the covering window whose centre is nearest (or
  // the nearest window at all, for speech too short to embed).
  const centres = windows.map((w) => (w.start + w.end) / 2)
  const turns: SpeakerTurn[] = []
  const all = windows.map((_, i) => i)
  for (const r of speech) {
    let current: SpeakerTurn | undefined
    // Only the windows over this region compete (all of them when it had none: too short).
    const own = all.filter(
      (i) => (windows[i] as TimeRange).start < r.end && (windows[i] as TimeRange).end > r.start,
    )
    const candidates = own.length > 0 ? own : all
    for (let t = r.start; t < r.end - 1e-9; t += 0.01) {
      const mid = Math.min(t + 0.005, r.end)
      let best = -1
      let bestScore = Number.POSITIVE_INFINITY
      for (const i of candidates) {
        const w = windows[i] as TimeRange
        const covers = w.start <= mid && mid <= w.end
        const score = Math.abs((centres[i] as number) - mid) + (covers ? 0 : 1000)
        if (score < bestScore) {
          bestScore = score
          best = i
        }
      }
      const speaker = label[labels[best] as number] as string
      const end = Math.min(t + 0.01, r.end)
      if (current?.speaker === speaker) current.end = end
      else {
        if (current) turns.push(current)
        current = { speaker, start: t, end }
      }
    }
    if (current) turns.push(current)
  }
  const order: string[] = []
  for (const t of turns) if (!order.includes(t.speaker)) order.push(t.speaker)
  return {
    turns: turns.map((t) => ({ ...t, start: round(t.start), end: round(t.end) })),
    speakers: order,
    centroids: new Map(label.map((l, i) => [l, centroids[i] as Float32Array])),
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000
