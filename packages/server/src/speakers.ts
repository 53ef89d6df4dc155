import type { InferenceGate, Logger, Segment, SessionEvent } from '@ws/core'
import { segmentTimes, toWsError, WsError } from '@ws/core'
import { decodeAudio } from '@ws/core/node'
import type { LiveDiarizer, LiveDiarizerOptions, SpeakerEmbedder } from '@ws/diarize'
import { importAdapter } from './import-adapter.js'

type Diarize = typeof import('@ws/diarize')

/** Longest known speaker's reference clip, in seconds (OpenAI asks for 2–10 s). */
export const MAX_REFERENCE_SECONDS = 30
/**
 * Longest recording diarized, in seconds: at most `MAX_WINDOWS` (1,200) embedding windows
 * even if it is all speech. The clustering runs in a worker thread of its own (O(windows³):
 * about 8–10 s of one core at the limit), off the event loop.
 */
export const MAX_DIARIZE_SECONDS = 900

/** A diarization request with its reference clips decoded. */
export interface PreparedDiarize {
  hints: Omit<DiarizeRequest, 'known'>
  knownSpeakers: { name: string; audio: Float32Array }[]
}

/** What a transcription request asks of diarization (OpenAI's fields and hints). */
export interface DiarizeRequest {
  numSpeakers?: number
  minSpeakers?: number
  maxSpeakers?: number
  /** Known speakers: a name and a short clip of them alone, in any format the server decodes. */
  known?: { name: string; bytes: Uint8Array }[]
}

/**
 * The server's speaker diarization: `@ws/diarize` (an optional peer dependency) and one
 * speaker-embedding worker, made at the first request that asks for speakers (the model
 * provisioned then, unless `offline`) and shared by every request and session after it.
 * A failed start is not kept: the next request tries again.
 */
export class Speakers {
  #options: { offline: boolean; threads?: number; logger: Logger }
  #loading: Promise<{ lib: Diarize; embedder: SpeakerEmbedder }> | undefined
  #closed = false

  constructor(options: { offline: boolean; threads?: number; logger: Logger }) {
    this.#options = options
  }

  async #load(): Promise<{ lib: Diarize; embedder: SpeakerEmbedder }> {
    if (this.#closed) throw new WsError('closed', 'The server is closing')
    // A worker that died is replaced, not kept failing every request after it.
    const loaded = await this.#loading?.catch(() => undefined)
    if (loaded && !loaded.embedder.alive && this.#loading) {
      this.#loading = undefined
      void loaded.embedder.close()
    }
    this.#loading ??= (async () => {
      const lib = await importAdapter(() => import('@ws/diarize'), '@ws/diarize', 'diarization')
      const started = performance.now()
      const { offline, threads } = this.#options
      const embedder = await lib.SpeakerEmbedder.create({ offline, threads })
      this.#options.logger.info(
        { model: embedder.modelPath, ms: Math.round(performance.now() - started) },
        'speaker model loaded',
      )
      return { lib, embedder }
    })()
    this.#loading.catch(() => {
      this.#loading = undefined
    })
    return this.#loading
  }

  /**
   * The request's known speakers decoded (each clip at most {@link MAX_REFERENCE_SECONDS}),
   * before any transcription: a bad clip is refused at once.
   */
  async prepare(request: DiarizeRequest, signal: AbortSignal): Promise<PreparedDiarize> {
    const { known = [], ...hints } = request
    const knownSpeakers = []
    for (const k of known) {
      const audio = await decodeAudio(k.bytes, { maxSeconds: MAX_REFERENCE_SECONDS, signal }).catch(
        (err: unknown) => {
          throw new WsError(
            'invalid_audio',
            `The reference clip of "${k.name}" could not be used: ${toWsError(err).message}`,
            { cause: err },
          )
        },
      )
      knownSpeakers.push({ name: k.name, audio })
    }
    return { hints, knownSpeakers }
  }

  /**
   * Speakers on a whole-file transcript: diarizes `audio` (16 kHz mono) with the request's
   * hints and known speakers, then labels the segments' words by the turns (a segment that
   * spans a change of speaker is split at word boundaries).
   */
  async label(
    audio: Float32Array,
    segments: readonly Segment[],
    request: PreparedDiarize,
    signal: AbortSignal,
  ): Promise<Segment[]> {
    const { lib, embedder } = await this.#load()
    const result = await lib.diarize(embedder, audio, {
      ...request.hints,
      knownSpeakers: request.knownSpeakers,
      signal,
    })
    return lib.attributeSpeakers(segments, lib.speakerByTurns(result.turns))
  }

  /** A live session's diarizer (its own speakers and centroids, the shared embedder). */
  async live(options: LiveDiarizerOptions = {}): Promise<LiveDiarizer> {
    const { lib, embedder } = await this.#load()
    return new lib.LiveDiarizer(embedder, options)
  }

  /** Stops the embedding worker. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    const loading = this.#loading
    this.#loading = undefined
    if (loading) await loading.then(({ embedder }) => embedder.close()).catch(() => {})
  }
}

/**
 * The diarizer of a live session that asked for speakers, keeping its audio as long as a final
 * may lag it (the pending limit plus an utterance); undefined (and closed) when the session
 * was gone by the time it loaded. Each embedding request takes a turn at the inference
 * scheduler (a gate of its own, as a partial: finals first), so embeddings never run alongside
 * a transcription on the same cores. When it cannot be made, the connection says so once and ends the session: speakers were
 * asked for and cannot be given.
 */
export async function sessionDiarizer(
  ctx: {
    engine: { speakers: Speakers }
    scheduler: { gate(): InferenceGate }
    options: { maxPendingS: number; maxUtteranceS: number }
  },
  gone: () => boolean,
): Promise<LiveDiarizer | undefined> {
  const o = ctx.options
  const gate = ctx.scheduler.gate()
  const diarizer = await ctx.engine.speakers.live({
    keepSeconds: o.maxPendingS + o.maxUtteranceS + 10,
    schedule: async (work) => {
      const ticket = await gate.acquire('partial')
      try {
        return await work()
      } finally {
        ticket.release()
      }
    },
  })
  if (!gone()) return diarizer
  diarizer.close()
  return undefined
}

/**
 * A session event with its speakers: a final's or revision's segments labelled by the
 * session's diarizer (which waits only for the windows of its audio still embedding). Should
 * labelling fail, the event goes out unlabelled and the failure is logged: text is never
 * held back for a speaker.
 */
export async function labelSpeakers(
  diarizer: LiveDiarizer,
  event: SessionEvent,
  logger: Logger,
): Promise<SessionEvent> {
  if (event.type !== 'final' && event.type !== 'revision') return event
  try {
    // Split where the speaker changes, the pieces timed by their words as the session's own.
    return { ...event, segments: segmentTimes(await diarizer.label(event.segments)) }
  } catch (err) {
    logger.warn({ err }, 'speaker labelling failed; the transcript goes out without speakers')
    return event
  }
}
