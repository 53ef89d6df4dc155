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
}

/**
 * A conversation-like recording built from real clips of several voices: turns one after
 * another with short pauses, the next speaker drawn at random (seeded), each voice's clips
 * used in order without repeating. Returns the audio (16 kHz) and the reference turns, from
 * each clip's measured speech start and end.
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
  const gaps = order.map(() => lo + random() * (hi - lo))
  const { audio, utterances } = composeUtterances(
    order.map((o) => o.clip),
    gaps,
    { leadSeconds: 0.5, trailSeconds: 0.5 },
  )
  return {
    audio,
    turns: utterances.map((u, i) => ({
      speaker: order[i]?.speaker as string,
      start: Math.round(u.start * 1000) / 1000,
      end: Math.round(u.end * 1000) / 1000,
      name: order[i]?.clip.name as string,
    })),
  }
}
