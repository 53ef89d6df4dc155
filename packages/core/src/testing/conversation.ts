import { composeUtterances } from './audio-mix.js'
import type { LoadedRealSpeech } from './real-speech.js'

/** One speaker's stretch of a built conversation, in seconds. */
export interface ConversationTurn {
  speaker: string
  start: number
  end: number
  /** The clip spoken. */
  name: string
}

export interface ConversationOptions {
  /** Number of turns (default 24). */
  turns?: number
  /** Seed of the choices (default 1). */
  seed?: number
  /** Pauses between turns are drawn from this range, in seconds (default 0.15 to 1.0). */
  gapSeconds?: [number, number]
  /** Chance that a turn goes to the same speaker again (default 0.2). */
  sameSpeaker?: number
  /**
   * Where a reference turn ends: `speech` (default), at the clip's measured speech end (40 dB
   * below its peak, a studio's reverb included); `speaker`, where its speaker stops
   * ({@link speakerEnd}).
   */
  turnEnds?: 'speech' | 'speaker'
  /**
   * Chance that a new speaker starts before the last one has finished (default 0): the two
   * clips are mixed (added) and both reference turns cover the overlap, as on a phone call.
   */
  overlap?: number
  /** How long such an overlap lasts, drawn from this range in seconds (default 0.3 to 1.0; at most half the earlier turn). */
  overlapSeconds?: [number, number]
}

/**
 * How far below a clip's loudest 10 ms frame its speech is taken to end, in dB. The corpora's
 * `speechEnd` runs to 40 dB below, which in a reverberant studio (Fish Fillets NG's Dutch dub:
 * the level falls 15–20 dB after the last word, then decays over 0.6–0.7 s) is the room, not the
 * speaker. At 30 dB the 80 clips of each real corpus end earlier by, median / p90: Dutch 0.31 /
 * 0.41 s, English (Asterisk, dry) 0.03 / 0.12 s, Spanish 0.02 / 0.06 s.
 */
export const TURN_END_BELOW_PEAK_DB = 30

/**
 * Where the speaker of a clip stops, in seconds: the end of the last three 10 ms frames in a
 * row within {@link TURN_END_BELOW_PEAK_DB} of its loudest frame, between its `speechStart`
 * and `speechEnd`.
 */
export function speakerEnd(clip: LoadedRealSpeech, sampleRate = 16_000): number {
  const hop = Math.round(sampleRate / 100)
  const from = Math.floor((clip.speechStart * sampleRate) / hop)
  const to = Math.min(Math.floor(clip.audio.length / hop), Math.ceil((clip.speechEnd * sampleRate) / hop))
  const db: number[] = []
  for (let f = from; f < to; f++) {
    let sum = 0
    for (let i = f * hop; i < (f + 1) * hop; i++) sum += clip.audio[i]! ** 2
    db.push(10 * Math.log10(sum / hop + 1e-12))
  }
  const threshold = Math.max(...db) - TURN_END_BELOW_PEAK_DB
  for (let i = db.length - 1; i >= 2; i--)
    if (db[i]! >= threshold && db[i - 1]! >= threshold && db[i - 2]! >= threshold)
      return Math.min(clip.speechEnd, ((from + i + 1) * hop) / sampleRate)
  return clip.speechEnd
}

/**
 * A conversation-like recording built from real clips of several voices: turns one after
 * another with short pauses, the next speaker drawn at random (seeded), each voice's clips
 * used in order without repeating. Returns the audio (16 kHz) and the reference turns, from
 * each clip's measured speech start to its end (see `turnEnds`).
 */
export function realConversation(
  voices: Record<string, readonly LoadedRealSpeech[]>,
  options: ConversationOptions = {},
): { audio: Float32Array; turns: ConversationTurn[] } {
  const names = Object.keys(voices)
  const [lo, hi] = options.gapSeconds ?? [0.15, 1.0]
  const same = options.sameSpeaker ?? 0.2
  let x = (options.seed ?? 1) >>> 0 || 1
  const random = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
  const next = new Map(names.map((n) => [n, 0]))
  const order: { speaker: string; clip: LoadedRealSpeech }[] = []
  let speaker = names[0] as string
  for (let i = 0; i < (options.turns ?? 24); i++) {
    if (i > 0 && names.length > 1 && random() >= same) {
      const others = names.filter((n) => n !== speaker)
      speaker = others[Math.floor(random() * others.length)] as string
    }
    const clips = voices[speaker] as readonly LoadedRealSpeech[]
    const at = next.get(speaker) as number
    if (at >= clips.length) throw new Error(`voice ${speaker} has only ${clips.length} clips`)
    next.set(speaker, at + 1)
    order.push({ speaker, clip: clips[at] as LoadedRealSpeech })
  }
  const byEnd = options.turnEnds === 'speaker'
  const gaps = order.map(() => lo + random() * (hi - lo))
  const overlap = options.overlap ?? 0
  if (overlap > 0) {
    const [olo, ohi] = options.overlapSeconds ?? [0.3, 1.0]
    order.forEach((o, i) => {
      const next = order[i + 1]
      if (next && next.speaker !== o.speaker && random() < overlap)
        gaps[i] = -Math.min(olo + random() * (ohi - olo), (o.clip.speechEnd - o.clip.speechStart) / 2)
    })
  }
  const { audio, utterances } = composeUtterances(
    order.map((o) => o.clip),
    gaps,
    { leadSeconds: 0.5, trailSeconds: 0.5, ...(overlap > 0 ? { mix: 'add' as const } : {}) },
  )
  return {
    audio,
    turns: utterances.map((u, i) => {
      const clip = order[i]?.clip as LoadedRealSpeech
      return {
        speaker: order[i]?.speaker as string,
        start: Math.round(u.start * 1000) / 1000,
        end: Math.round((u.end - (byEnd ? clip.speechEnd - speakerEnd(clip) : 0)) * 1000) / 1000,
        name: clip.name,
      }
    }),
  }
}
