import { WsError } from './errors.js'
import type { Task, TranscriptResult } from './types.js'
import { WHISPER_SAMPLE_RATE } from './types.js'

export interface TranscribeOptions {
  /** Text that precedes the audio: Whisper's `initial_prompt`. */
  initialPrompt?: string
  /** ISO 639-1 language code; omitted means the model detects it (multilingual models). */
  language?: string
  task?: Task
  /** Ask for per-word timestamps in `segments[].words`. */
  wordTimestamps?: boolean
  /**
   * The decoder's beam for this call (1: greedy; 1–{@link MAX_BEAM_SIZE}, 8), instead of the backend's own
   * `beamSize`, on backends with a beam search (whisper.cpp, faster-whisper; others ignore
   * it). A preview stays greedy. A session's revisions ask for it (`reviseBeamSize`).
   */
  beamSize?: number
  /**
   * The result is a preview that a later call on the same audio will replace (a partial of
   * the `prompt`, `context` or `hybrid` strategies): a backend may decode it faster and less
   * carefully (greedy, no temperature fallback).
   */
  preview?: boolean
  /**
   * Nobody waits for this result (a session's revision of earlier finals): a backend may
   * spend less CPU on it at the cost of wall time (whisper.cpp: fewer threads).
   */
  background?: boolean
  /**
   * A live stream waits for this result (a streaming session's final): a backend may trade
   * encoder work for latency where that was shown not to cost accuracy (whisper.cpp: an
   * encoder window sized to the audio). Without it (and without `preview`) nobody waits in
   * real time — a file, a REST call — and the backend decodes for accuracy.
   */
  live?: boolean
  /**
   * With `live`: the engine is contended — this final waited for another one to finish, or
   * runs beside one (a scheduler's ticket says so). A backend may then take its quick path
   * for the final (whisper.cpp and faster-whisper with `finalWindow: 'auto'`: the window fitted
   * to the audio instead of the full one), so a queue of finals drains fast.
   */
  busy?: boolean
  signal?: AbortSignal
}

/**
 * The encoder window of a streaming session's finals (`live` calls), on backends that can fit
 * it to the audio (whisper.cpp, faster-whisper): `full` is Whisper's 30 s, as a whole clip
 * gets (on real English streams, tiny.en: finals 2.4 % WER against 4.5 % fitted; offline
 * 1.7 %), at about 3.5× each final's decode time; `fitted` sizes it to the audio, for
 * latency and capacity; `auto` is `full` while the engine keeps up and `fitted` for a final
 * that is `busy` (it waited for another final, or runs beside one), so a server keeps full
 * accuracy while it has room, and finals that queue behind each other when sessions end
 * utterances together drain at the fitted window's speed.
 */
export type FinalWindow = (typeof FINAL_WINDOWS)[number]
export const FINAL_WINDOWS = ['auto', 'fitted', 'full'] as const

/** Whether a live final decodes on the window fitted to its audio, by {@link FinalWindow}. */
export function fittedFinal(window: FinalWindow, busy: boolean | undefined): boolean {
  return window === 'fitted' || (window === 'auto' && busy === true)
}

/**
 * A Whisper inference engine. Implementations: `@ws/backend-whispercpp` (in-process),
 * `@ws/backend-faster` (a Python worker). Every implementation passes the conformance suite
 * in `@ws/core/testing`.
 *
 * Contract:
 * - `loadModel` takes a model name (`"tiny.en"`) or a path; an unknown model rejects with
 *   `model_not_found`, a broken one with `model_load_failed`.
 * - `transcribe` takes mono audio at {@link WHISPER_SAMPLE_RATE}; other rates reject with
 *   `unsupported_sample_rate`, empty or non-finite audio with `invalid_audio`, a call before
 *   `loadModel` with `model_not_loaded`, an aborted signal with `aborted`. Times in the result
 *   are seconds from the start of `audio`. Several calls may be in flight at once.
 * - Inference never blocks the event loop.
 * - `close` releases everything and is idempotent; later calls reject with `closed`.
 */
export interface WhisperBackend {
  readonly name: string
  /**
   * An abort stops a call that is already running, within milliseconds, and its promise
   * settles only once the engine is free (whisper.cpp: its abort callback). A session then
   * aborts a running partial when the utterance's final is due instead of waiting for it.
   * Absent or false: an abort only drops a call that has not started.
   */
  readonly stopsRunningCalls?: boolean
  /**
   * Asked for word timestamps, each word comes with the model's probability for it
   * (whisper.cpp, faster-whisper). A revising session then decodes its finals and revisions
   * with their words and weighs one against the other (`mergeRevision`); absent or false, a
   * revision replaces its finals whole and no word times are asked for.
   */
  readonly wordProbabilities?: boolean
  loadModel(model: string): Promise<void>
  transcribe(audio: Float32Array, sampleRate: number, options?: TranscribeOptions): Promise<TranscriptResult>
  close(): Promise<void>
}

/**
 * The widest beam a backend decodes, per call or as its default: whisper.cpp decodes at most 8
 * candidates at once (its `WHISPER_MAX_DECODERS`) and fails a call asking for more, so every
 * backend and the server take the same 1–8.
 */
export const MAX_BEAM_SIZE = 8

/**
 * Checks the audio a backend is given, so every backend rejects bad input the same way.
 * Throws {@link WsError} `unsupported_sample_rate` or `invalid_audio`; `invalid_config` for a
 * `beamSize` out of 1–{@link MAX_BEAM_SIZE}.
 */
export function validateTranscribeInput(
  audio: unknown,
  sampleRate: number,
  options: Pick<TranscribeOptions, 'beamSize'> = {},
): asserts audio is Float32Array {
  if (sampleRate !== WHISPER_SAMPLE_RATE) {
    throw new WsError(
      'unsupported_sample_rate',
      `Backends take ${WHISPER_SAMPLE_RATE} Hz audio, got ${sampleRate} Hz; resample first (see resample())`,
    )
  }
  if (!(audio instanceof Float32Array)) {
    throw new WsError('invalid_audio', 'Audio must be a Float32Array of mono samples')
  }
  if (audio.length === 0) throw new WsError('invalid_audio', 'Audio is empty')
  for (let i = 0; i < audio.length; i++) {
    if (!Number.isFinite(audio[i])) {
      throw new WsError('invalid_audio', `Audio sample ${i} is not a finite number`)
    }
  }
  const beam = options.beamSize
  if (beam !== undefined && !(Number.isInteger(beam) && beam >= 1 && beam <= MAX_BEAM_SIZE)) {
    throw new WsError('invalid_config', `beamSize must be an integer from 1 to ${MAX_BEAM_SIZE}, got ${beam}`)
  }
}
