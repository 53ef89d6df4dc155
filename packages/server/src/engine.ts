import {
  DEFAULT_VAD_SEGMENTER_OPTIONS,
  type FinalWindow,
  InferenceScheduler,
  type Logger,
  type NoSpeechRule,
  type VadBackend,
  type VadSegmenterOptions,
  type WhisperBackend,
} from '@ws/core'
import { importAdapter } from './import-adapter.js'
import type { ResolvedServerOptions } from './options.js'
import { Speakers } from './speakers.js'
import { checkSpeed, type SpeedCheck, speedWarning } from './speed-check.js'

/** The inference side of a server: one backend, its model, and a VAD per session. */

/**
 * whisper.cpp's finals' window when none is asked: `auto` (the full window while the engine
 * keeps up) for the tiny models; `fitted` for the larger ones, whose full-window final is not
 * live. `base`, 2 AMD EPYC cores, the real 2-minute English stream, one session: final p50 /
 * p95 1223 / 1386 ms on the full window, 367 / 526 ms fitted; finals' WER 1.3 and 2.2 %
 * against 1.75 % for each utterance decoded alone (pooled over the real English sets, 1.95 and
 * 2.49 %; tiny.en's full window 2.93 %). A model file (a path, or a name ending in `.bin`)
 * keeps `auto`: its size is not known here.
 */
export function defaultFinalWindow(model: string): FinalWindow {
  if (/[\\/]|\.bin$/i.test(model)) return 'auto'
  return /^(base|small|medium|large|turbo)\b/.test(model) ? 'fitted' : 'auto'
}

export interface Engine {
  backend: WhisperBackend
  /** Requests the backend can usefully take at once (its scheduler's concurrency). */
  concurrency: number
  backendName: string
  model: string
  /** Whether `close()` of the server closes the backend (false for a backend passed in). */
  owned: boolean
  /**
   * A VAD for one session. `threshold` (0–1, a drop-in client's speech threshold): Silero's
   * own; the WebRTC VAD's aggressiveness from it ({@link webrtcAggressiveness}).
   */
  createVad: (options?: { threshold?: number }) => Promise<VadBackend>
  vadName: string
  vadSegmenter?: VadSegmenterOptions
  /** The silence that ends an utterance on this VAD (its segmenter's hangover), in ms. */
  vadHangoverMs?: number
  /** The start-up speed check of a local engine's model ({@link checkSpeed}). */
  speed?: SpeedCheck
  /** Speaker diarization (`@ws/diarize`, loaded at the first request for it). */
  speakers: Speakers
}

/**
 * A speech threshold (0–1, OpenAI's `turn_detection.threshold`, default 0.5) as the WebRTC
 * VAD's aggressiveness (0–3): 0.5 and above is 3, the server's own setting; each 0.15 below it
 * one step less strict (0.35 → 2, 0.2 → 1, under 0.2 → 0), for noisy or quiet input.
 */
export function webrtcAggressiveness(threshold: number): number {
  if (threshold >= 0.5) return 3
  if (threshold >= 0.35) return 2
  if (threshold >= 0.2) return 1
  return 0
}

/**
 * Makes the backend (loading, and on first run provisioning, its model) and the VAD factory.
 * The adapters are imported only when chosen, so an unused one costs nothing at start.
 */
export async function createEngine(o: ResolvedServerOptions, logger: Logger): Promise<Engine> {
  const createVad =
    typeof o.vad === 'function'
      ? o.vad
      : o.vad === 'silero'
        ? async ({ threshold }: { threshold?: number } = {}) =>
            (await importAdapter(() => import('@ws/vad-silero'), '@ws/vad-silero', 'vad silero')).createVad(
              threshold === undefined ? {} : { threshold },
            )
        : async ({ threshold }: { threshold?: number } = {}) =>
            (await importAdapter(() => import('@ws/vad-webrtc'), '@ws/vad-webrtc', 'vad webrtc')).createVad(
              threshold === undefined ? {} : { aggressiveness: webrtcAggressiveness(threshold) },
            )
  const vadName = typeof o.vad === 'function' ? 'custom' : o.vad
  // Fail at start, not at the first session, if the VAD cannot be made.
  const probe = await createVad()
  await probe.close?.()
  const vadHangoverMs = probe.segmenterDefaults?.hangoverMs ?? DEFAULT_VAD_SEGMENTER_OPTIONS.hangoverMs
  const speakers = new Speakers({ offline: o.offline, threads: o.speakerThreads, logger })

  if (typeof o.backend === 'object') {
    return {
      backend: o.backend,
      concurrency: 1,
      backendName: o.backend.name,
      model: o.model,
      owned: false,
      createVad,
      vadName,
      vadHangoverMs,
      speakers,
    }
  }
  const common = {
    logger,
    offline: o.offline,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    beamSize: o.beamSize,
    ...(o.finalWindow ? { finalWindow: o.finalWindow } : {}),
  }
  // The no-speech guard: the backend's own rule, at the threshold asked for, or off.
  const noSpeech = (rule: Readonly<NoSpeechRule>) =>
    o.noSpeechThreshold === undefined
      ? {}
      : {
          noSpeech:
            o.noSpeechThreshold === 'off'
              ? (false as const)
              : { ...rule, noSpeechThreshold: o.noSpeechThreshold },
        }
  let backend: WhisperBackend
  let concurrency: number
  if (o.backend === 'openai' || o.backend === 'whisper-server') {
    const { OpenAiBackend } = await importAdapter(
      () => import('@ws/backend-openai'),
      '@ws/backend-openai',
      `backend ${o.backend}`,
    )
    const b = new OpenAiBackend({
      baseUrl: o.backendUrl!,
      api: o.backend,
      logger,
      ...(o.backendApiKey ? { apiKey: o.backendApiKey } : {}),
      ...(o.backendConcurrency ? { concurrency: o.backendConcurrency } : {}),
    })
    backend = b
    // Requests in flight at once, each on a remote engine.
    concurrency = b.options.concurrency
  } else if (o.backend === 'faster') {
    const { FasterWhisperBackend, DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE } = await importAdapter(
      () => import('@ws/backend-faster'),
      '@ws/backend-faster',
      'backend faster',
    )
    const b = new FasterWhisperBackend({
      ...common,
      ...(o.threads ? { cpuThreads: o.threads } : {}),
      ...(o.computeType ? { computeType: o.computeType } : {}),
      ...noSpeech(DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE),
    })
    backend = b
    // The worker batches requests that wait together.
    concurrency = b.options.maxBatch
  } else {
    const { WhisperCppBackend, DEFAULT_WHISPER_CPP_NO_SPEECH_RULE } = await importAdapter(
      () => import('@ws/backend-whispercpp'),
      '@ws/backend-whispercpp',
      'backend whispercpp',
    )
    backend = new WhisperCppBackend({
      ...common,
      ...(o.finalWindow ? {} : { finalWindow: defaultFinalWindow(o.model) }),
      ...(o.threads ? { threads: o.threads } : {}),
      ...(o.minFinalWindowMs === undefined ? {} : { minFinalWindowMs: o.minFinalWindowMs }),
      ...noSpeech(DEFAULT_WHISPER_CPP_NO_SPEECH_RULE),
    })
    // One transcription at a time; each already uses every core.
    concurrency = 1
  }
  let speed: SpeedCheck | undefined
  try {
    await backend.loadModel(o.model)
    // A local engine's speed is this machine's: say at start when the model cannot keep up.
    if (o.backend === 'whispercpp' || o.backend === 'faster') {
      speed = await checkSpeed(backend, { maxLoad: o.maxLoad })
      const fields = {
        model: o.model,
        realTimeFactor: Number(speed.realTimeFactor.toFixed(3)),
        finalsLoad: Number(speed.finalsLoad.toFixed(3)),
      }
      const warning = speedWarning(speed, o.model, o.maxLoad)
      if (warning) logger.warn(fields, warning)
      else logger.info(fields, 'speed check: the model keeps up with live sessions')
    }
  } catch (err) {
    await backend.close()
    throw err
  }
  return {
    ...(speed ? { speed } : {}),
    backend,
    concurrency,
    backendName: backend.name,
    model: o.model,
    owned: true,
    createVad,
    vadName,
    vadHangoverMs,
    speakers,
  }
}

/**
 * The scheduler of an engine's requests: as many at once as the engine takes, admission at
 * `maxLoad`, and a partial's or revision's turn taken back for a waiting final where the
 * backend stops a running call (elsewhere the final waits for the call's end).
 */
export function schedulerFor(engine: Engine, maxLoad: number): InferenceScheduler {
  return new InferenceScheduler({
    concurrency: engine.concurrency,
    maxLoad,
    preempt: engine.backend.stopsRunningCalls === true,
  })
}
