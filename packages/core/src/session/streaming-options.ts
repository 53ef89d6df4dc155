import { MAX_BEAM_SIZE, type WhisperBackend } from '../backend.js'
import { WsError } from '../errors.js'
import type { Logger } from '../logger.js'
import { withDefaults } from '../options.js'
import {
  checkSessionOption,
  SESSION_OPTION_NAMES,
  SESSION_OPTIONS,
  type SessionConfig,
  type SessionOptionSpec,
} from '../protocol/session-options.js'
import {
  DEFAULT_STRATEGY_OPTIONS,
  isStrategyName,
  type Strategy,
  type StrategyName,
  type StrategyOptions,
} from '../strategies/strategy.js'
import { isWhisperLanguage } from '../text/languages.js'
import { WHISPER_SAMPLE_RATE, WHISPER_WINDOW_SECONDS } from '../types.js'
import type { VadSegmenterOptions } from '../vad/segmenter.js'
import type { VadBackend } from '../vad.js'
import type { InferenceGate } from './scheduler.js'

const SR = WHISPER_SAMPLE_RATE

/**
 * Also the strategy's options when `strategy` is a name: `language`, `task`,
 * `wordTimestamps`, `contextMs`, `maxPromptChars`, `agreement` (see {@link StrategyOptions}).
 */
export interface StreamingSessionOptions extends Omit<StrategyOptions, 'backend'> {
  backend: WhisperBackend
  /** A strategy name or instance (default `hybrid`). */
  strategy?: StrategyName | Strategy
  /** Rate of the audio pushed in; anything but 16 kHz is resampled (default 16 000). */
  sampleRate?: number
  /** With a VAD, utterances start and end by themselves ("server VAD"). */
  vad?: VadBackend
  /** Segmenter settings (default: the VAD's `segmenterDefaults`, then the core defaults). */
  vadSegmenter?: VadSegmenterOptions
  /** New audio between partials; 0 turns partials off (default 500). */
  partialIntervalMs?: number
  /**
   * The interval between partials grows to this fraction of the utterance so far (default
   * 0.25; 0 keeps `partialIntervalMs`). Each partial decodes the whole utterance, so at a
   * fixed interval partial work per second of audio grows with the utterance's length; with
   * a ratio r it stays below (1 + r) / r seconds decoded per second of audio, whatever the
   * length.
   */
  partialIntervalRatio?: number
  /**
   * Partials take at most this share of the backend's time (default 0.5): when one takes
   * longer than `partialIntervalMs × maxPartialLoad`, the next waits for more audio, which
   * keeps room for finals and other sessions on a slow or busy machine.
   */
  maxPartialLoad?: number
  /** No partial for an utterance shorter than this (default 300). */
  minPartialMs?: number
  /** An utterance this long is finalised, cut at its quietest point near the end (default 25 000). */
  maxUtteranceMs?: number
  /**
   * With a VAD: after this much silence inside an utterance, its final is computed ahead,
   * so that it is ready when the VAD's hangover ends the utterance; used only if no speech
   * came after it (default 60; 0 turns it off). Behind a gate, on a backend that
   * `stopsRunningCalls` it is asked whatever the engine does: it waits behind the finals and
   * takes the turn of a partial or revision as a final does, and is stopped if speech resumes
   * (tiny.en, 4 live sessions on 2 cores: 78 of 100 finals had waited for the hangover's end
   * while the engine was busy; final p95 1.05 s → 0.70 s). On other backends, only while the
   * engine is idle, since speech that resumes wastes it. Strategies `prompt`, `context`, `hybrid`.
   */
  speculativeFinalMs?: number
  /**
   * Finished utterances are decoded again together in blocks of up to this much of the
   * stream, and each block's `revision` event replaces their finals (default 0: off; 28 000
   * is the measured choice). Whisper is much more accurate with half a minute of context than
   * on one sentence; the finals still come at once, the revision when the block is full or
   * the stream ends. Revisions are asked as `background` work (whisper.cpp: one thread) at
   * the priority of partials: about a fifth of a session's CPU (tiny.en, 2 cores: 0.28 CPU-s
   * per audio s with them, 0.22 without); on a backend that cannot stop running calls a final
   * may wait behind a revision.
   */
  reviseMaxMs?: number
  /**
   * Characters of the revised text before a block that prompt its revision (default 0: none).
   * A block is up to 28 s of the stream, context enough; prompted with the text before, a
   * revision copied the previous sentence's misrecognition into the next on real read speech.
   */
  revisePromptChars?: number
  /**
   * The decoder's beam for revisions (1–{@link MAX_BEAM_SIZE}, 8; default 5), on backends with a beam search
   * (whisper.cpp, faster-whisper); finals and partials keep the backend's own. Nobody waits
   * for a revision: the beam costs CPU, not a final's latency. Greedy, a revision can be surer
   * of a wrong word than the finals were of the right one (real English streams, tiny.en,
   * faster-whisper `context`: finals 1.0 %, revised 1.7 %; at beam 5, 1.0 %).
   */
  reviseBeamSize?: number
  /**
   * Without `language`, a multilingual model detects it: once a final of at least this much
   * audio has it, the later utterances and revisions keep it, in prompts too (the final's
   * `language`; {@link StreamingSession.language}). Default 2000; 0 detects it on every call.
   */
  detectLanguageMs?: number
  logger?: Logger
  /**
   * Called with each piece of audio as it enters the stream: 16 kHz mono, after resampling,
   * in stream order (sample `n` of the stream is at `n / 16000` s), before the session sees
   * it. For work beside transcription, such as speaker embeddings. The array is the
   * session's own audio: read it, never change it.
   */
  onAudio?: (samples: Float32Array) => void
  /**
   * Where each transcription waits for its turn (an {@link InferenceScheduler}'s gate, shared
   * by the sessions of one backend). Without it, requests go straight to the backend.
   */
  gate?: InferenceGate
  /** Aborting closes the session. */
  signal?: AbortSignal
}

export const DEFAULT_STREAMING_SESSION_OPTIONS = {
  strategy: 'hybrid',
  sampleRate: SESSION_OPTIONS.sample_rate.default,
  partialIntervalMs: SESSION_OPTIONS.partial_interval_ms.default,
  partialIntervalRatio: 0.25,
  maxPartialLoad: 0.5,
  minPartialMs: 300,
  maxUtteranceMs: 25_000,
  speculativeFinalMs: 60,
  reviseMaxMs: 0,
  revisePromptChars: 0,
  reviseBeamSize: 5,
  detectLanguageMs: 2000,
  wordTimestamps: SESSION_OPTIONS.word_timestamps.default,
  contextMs: DEFAULT_STRATEGY_OPTIONS.contextMs,
  maxPromptChars: DEFAULT_STRATEGY_OPTIONS.maxPromptChars,
} as const satisfies Partial<StreamingSessionOptions>

/** The options with their defaults; throws `invalid_config` (or `unsupported_sample_rate`) naming the option. */
export function validateStreamingSessionOptions(options: StreamingSessionOptions) {
  const o = withDefaults(DEFAULT_STREAMING_SESSION_OPTIONS, options)
  const bad = (message: string): never => {
    throw new WsError('invalid_config', message)
  }
  if (!o.backend || typeof o.backend.transcribe !== 'function') bad('StreamingSession needs a backend')
  if (typeof o.strategy === 'string' && !isStrategyName(o.strategy)) bad(`Unknown strategy "${o.strategy}"`)
  // The same ranges as the wire options they mirror.
  checkSessionOption('sample_rate', o.sampleRate)
  checkSessionOption('partial_interval_ms', o.partialIntervalMs)
  if (!(o.partialIntervalRatio >= 0 && o.partialIntervalRatio <= 1))
    bad('partialIntervalRatio must be from 0 to 1 (0 keeps the interval fixed)')
  if (!(o.maxPartialLoad > 0 && o.maxPartialLoad <= 1)) bad('maxPartialLoad must be above 0 and at most 1')
  if (!(o.minPartialMs >= 0)) bad('minPartialMs must be >= 0')
  if (!(o.speculativeFinalMs >= 0)) bad('speculativeFinalMs must be >= 0 (0 is off)')
  if (!(o.reviseMaxMs === 0 || (o.reviseMaxMs >= 5000 && o.reviseMaxMs <= WHISPER_WINDOW_SECONDS * 1000)))
    bad(`reviseMaxMs must be 0 (off) or from 5000 to ${WHISPER_WINDOW_SECONDS * 1000}`)
  if (!(Number.isInteger(o.revisePromptChars) && o.revisePromptChars >= 0 && o.revisePromptChars <= 2000))
    bad('revisePromptChars must be an integer from 0 to 2000')
  if (!(Number.isInteger(o.reviseBeamSize) && o.reviseBeamSize >= 1 && o.reviseBeamSize <= MAX_BEAM_SIZE))
    bad(`reviseBeamSize must be an integer from 1 to ${MAX_BEAM_SIZE}`)
  if (!(o.detectLanguageMs >= 0)) bad('detectLanguageMs must be >= 0 (0 detects on every call)')
  if (o.language !== undefined && !isWhisperLanguage(o.language))
    bad(
      `language "${o.language}" is not a language Whisper knows (a code such as "en" or "es": WHISPER_LANGUAGES)`,
    )
  // An English-only model hears English whatever it is told: ask for another language, typed.
  const englishOnly = (o.backend as { multilingual?: boolean }).multilingual === false
  if (englishOnly && o.language && o.language !== 'en')
    bad(
      `The model is English-only; it cannot transcribe language "${o.language}" (serve a multilingual one, e.g. base)`,
    )
  if (englishOnly && o.task === 'translate') bad('The model is English-only; it cannot translate')
  // The carried audio of `context` and `hybrid` shrinks to what fits beside an utterance.
  if (!(o.maxUtteranceMs >= 1000 && o.maxUtteranceMs <= WHISPER_WINDOW_SECONDS * 1000 - 1000)) {
    bad(`maxUtteranceMs must be from 1000 to ${WHISPER_WINDOW_SECONDS * 1000 - 1000}`)
  }
  if (o.vad && o.vad.sampleRate !== SR)
    bad(`The session runs its VAD at ${SR} Hz; this VAD runs at ${o.vad.sampleRate} Hz`)
  if (o.vad && !(Number.isInteger(o.vad.frameSamples) && o.vad.frameSamples > 0))
    bad('VAD frameSamples must be positive')
  return o
}

/** Every session option that sets a session field names a field of {@link StreamingSessionOptions}. */
type SessionTargets = {
  [K in keyof typeof SESSION_OPTIONS]: (typeof SESSION_OPTIONS)[K] extends { session: infer T } ? T : never
}[keyof typeof SESSION_OPTIONS]
const sessionTargetsAreFields: SessionTargets extends keyof StreamingSessionOptions ? true : never = true
void sessionTargetsAreFields

/** The {@link StreamingSessionOptions} a session config sets (`language: "auto"` sets none). */
export function streamingOptionsOf(config: SessionConfig): Partial<StreamingSessionOptions> {
  const out: Record<string, unknown> = {}
  for (const name of SESSION_OPTION_NAMES) {
    const spec: SessionOptionSpec = SESSION_OPTIONS[name]
    const value = config[name]
    if (spec.session === undefined || value === undefined) continue
    if (name === 'language' && value === 'auto') continue
    out[spec.session] = value
  }
  return out as Partial<StreamingSessionOptions>
}
