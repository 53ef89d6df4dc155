import type { FinalWindow, Logger, VadBackend, WhisperBackend } from '@ws/core'
import {
  checkSessionOption,
  DEFAULT_STREAMING_SESSION_OPTIONS,
  FINAL_WINDOWS,
  MAX_BEAM_SIZE,
  SESSION_OPTIONS,
  WsError,
  withDefaults,
} from '@ws/core'

export const BACKEND_NAMES = ['whispercpp', 'faster', 'openai', 'whisper-server'] as const
export type BackendName = (typeof BACKEND_NAMES)[number]
export const VAD_NAMES = ['webrtc', 'silero'] as const
/** CTranslate2's compute types on a CPU, for `computeType`. */
export const COMPUTE_TYPES = ['int8', 'int8_float32', 'int16', 'float32'] as const
export type VadName = (typeof VAD_NAMES)[number]

export interface ServerOptions {
  /**
   * `whispercpp` (default), `faster`, or a backend instance (its model already loaded).
   * `openai` and `whisper-server` send inference to remote engines at `backendUrl`
   * (`@ws/backend-openai`): an OpenAI-compatible API (another `@ws/server`, a pool of them
   * behind a load balancer, vLLM, speaches, OpenAI) or whisper.cpp's `whisper-server`.
   */
  backend?: BackendName | WhisperBackend
  /** The remote engines' URL for `openai` (up to `/v1`) or `whisper-server` (its root). */
  backendUrl?: string
  /** Sent to the remote engines as a bearer token. */
  backendApiKey?: string
  /** Requests in flight to the remote engines at once (default 4; about the engines' total cores / 2 for tiny.en). */
  backendConcurrency?: number
  /** Model name or path (default `tiny.en`); ignored for a backend instance. */
  model?: string
  /** `webrtc` (default), `silero`, or a factory making one VAD per session. */
  vad?: VadName | (() => Promise<VadBackend>)
  host?: string
  /** 0 picks a free port (default 8765). */
  port?: number
  /**
   * A TCP port for Wyoming speech-to-text (Home Assistant's Assist), on `host`; Wyoming's
   * usual one is 10300, 0 picks a free one (default: off). The protocol carries no token.
   */
  wyomingPort?: number
  /** New audio between partials; 0 turns partials off (default 500). */
  partialIntervalMs?: number
  /**
   * Sessions transcribing at once (default 4): a connection takes a slot with its first audio
   * and gives it back when it ends or sends no audio for `noAudioTimeoutS`. Upgrades while all
   * are taken are refused (503, `server_busy`); audio from a connection that finds none free
   * gets `server_busy` and close 1013.
   */
  maxClients?: number
  /** Open WebSocket connections at once, transcribing or not (default 1000): what bounds memory and sockets. */
  maxConnections?: number
  /**
   * A connection sending no audio for this long gives its session slot back (its open
   * utterance is finalised); one that sends no audio and no keepalive for this long is closed
   * with `idle_timeout` (default 10, as Deepgram; 0 = off).
   */
  noAudioTimeoutS?: number
  /** Invalid messages one connection may send; the last gets its error and close 1008 (default 20). */
  maxInvalidMessages?: number
  /** How long a closed connection waits for its session to stop before its slot is given back anyway (default 5000). */
  closeTimeoutMs?: number
  /** Admission control: the share of the backend's time the finals of all sessions may use (default 0.8). */
  maxLoad?: number
  /** Longest session; then it is finalised and closed with `session_timeout` (default 3600; 0 = none). */
  sessionTimeoutS?: number
  /** A session with no message for this long is finalised and closed with `idle_timeout` (default 60; 0 = none). */
  idleTimeoutS?: number
  /** Largest WebSocket message accepted (default 1 MiB); larger audio frames get `audio_too_large`. */
  maxMessageBytes?: number
  /** An utterance this long is finalised (default 25). */
  maxUtteranceS?: number
  /** Audio a session may hold untranscribed before the server stops reading its socket (default 60). */
  maxPendingS?: number
  /** Bytes queued to a client above which partials are skipped (default 1 MiB); at 8× the session is closed with `slow_consumer`. */
  maxBufferedBytes?: number
  /** Largest upload to the REST endpoint (default 25 MiB, as OpenAI's); a larger declared body is refused unread. */
  maxUploadBytes?: number
  /** Longest audio the REST endpoint transcribes, in seconds (default 7200: two hours). */
  maxFileSeconds?: number
  /** REST transcriptions at once (default 2); more get 429 with `Retry-After`. */
  maxRestJobs?: number
  /**
   * When set, connections and REST calls need it: `Authorization: Bearer|Token`, `?token=`,
   * or where each drop-in protocol's official client puts its key (OpenAI's `api-key` header
   * and `openai-insecure-api-key.` subprotocol, Deepgram's `token`/`bearer` subprotocols).
   */
  authToken?: string
  /**
   * A PEM certificate (chain) file: with `tlsKey`, every route — REST, WebSocket, the demo
   * page — is served over HTTPS / WSS on the same port. OpenAI's Node client only speaks `wss:`
   * to a realtime server; a browser needs a secure page for the microphone off localhost.
   */
  tlsCert?: string
  /** The PEM private key file of `tlsCert`. */
  tlsKey?: string
  /**
   * Under `authToken`, whether `/metrics` and `/v1/models` stay public (default true: a
   * Prometheus scraper and a model list need no secret; false puts them behind the token too).
   * `/health`, `/ready` and the demo page are always public.
   */
  publicInfo?: boolean
  /**
   * Beam size of the backend (default 1: greedy). Measured with whisper.cpp tiny.en on this
   * project's streaming benchmark, greedy finals were no less accurate than beam 5, and
   * faster (beam 5 / greedy final latency 1.35).
   */
  beamSize?: number
  /** Threads for inference (default: the cores available). */
  threads?: number
  /**
   * Threads of the speaker-embedding worker, for diarization (default 1, at low priority, so
   * live sessions' inference goes first). On an idle machine, 2 threads diarize a file in
   * about 0.6 of the time, with the same turns (2 cores, `@ws/diarize`'s tests).
   */
  speakerThreads?: number
  /**
   * The encoder window of a session's finals on a local backend: `full` is Whisper's 30 s
   * window, as a file gets; `fitted` sizes it to the utterance, for speed. `auto` is at least
   * `minFinalWindowMs` on whisper.cpp (the full window by default) while the engine keeps up and
   * `fitted` for a final that waited for another session's final (see `FinalWindow` in
   * `@ws/core`). Default: on whisper.cpp `auto` for the tiny models and model files, `fitted`
   * for `base` and larger, whose full-window final is not live (see `defaultFinalWindow`);
   * `full` on faster-whisper (whose finals that come together run as one batch; `auto`
   * measured no gain there).
   * Partials stay fitted.
   */
  finalWindow?: FinalWindow
  /**
   * whisper.cpp, `finalWindow: 'auto'`: the shortest encoder window of a final, in ms (default
   * 30 000, Whisper's full window; 15 000 halves each final's decode, for about 2.5 points of
   * WER on one real-speech set and none on another). A final the model was unsure of on a
   * shorter window is decoded again on the full one. See the README's options table.
   */
  minFinalWindowMs?: number
  /**
   * Text a local engine made up where nobody spoke is dropped: a segment whose window the
   * model rates as no speech above this probability while its words are unsure (average
   * log-probability under the backend's threshold: -1 on whisper.cpp, -0.8 on faster-whisper;
   * Whisper's own rule), and a segment with no word ("♪♪", "."). `off` keeps everything.
   * Default: the backend's (0.4 on both). See the README's "Words where nobody spoke" for
   * what it drops and what it costs on real speech.
   */
  noSpeechThreshold?: number | 'off'
  /**
   * The faster-whisper backend's CTranslate2 compute type (default: the backend's, `int8`);
   * `float32` decodes the model unquantized. Only with `backend: 'faster'`.
   */
  computeType?: (typeof COMPUTE_TYPES)[number]
  /** Skip online model sources. */
  offline?: boolean
  /** Serve the demo page at `/` (default true). */
  demo?: boolean
  /** A pino logger (default: pino at `info`, or `LOG_LEVEL`). */
  logger?: Logger
  /** Progress of model provisioning. */
  onProgress?: (event: { stage: string; message: string; loadedBytes?: number; totalBytes?: number }) => void
  /** Grace for open sessions to finalise on close (default 10 000 ms). */
  shutdownGraceMs?: number
  /**
   * On close, `/ready` answers 503 for this long while the server still takes sessions, so a
   * load balancer's health check takes it out of rotation before it stops listening; then
   * open sessions finalise and close with 1001 (default 0; behind HAProxy checking every
   * second, 3000; on Kubernetes a `preStop` sleep does the same).
   */
  drainDelayMs?: number
  /**
   * Revisions: finished utterances decoded again in blocks of up to this much of the stream,
   * sent as `revision` messages that replace their finals (default 28 000; 0 = off; a client
   * turns them off for its session with `revisions=false`; see @ws/core's `reviseMaxMs`).
   */
  reviseMaxMs?: number
  /**
   * The decoder's beam for revisions (default 5, whatever `beamSize` is: nobody waits for a
   * revision; 1 = greedy, less CPU; see @ws/core's `reviseBeamSize`).
   */
  reviseBeamSize?: number
  /** Silence after which a session computes its final ahead, when the backend is idle (default 60; 0 = off). */
  speculativeFinalMs?: number
}

export const DEFAULT_SERVER_OPTIONS = {
  backend: 'whispercpp',
  model: 'tiny.en',
  vad: 'webrtc',
  host: '127.0.0.1',
  port: 8765,
  partialIntervalMs: SESSION_OPTIONS.partial_interval_ms.default,
  maxClients: 4,
  maxConnections: 1000,
  noAudioTimeoutS: 10,
  maxInvalidMessages: 20,
  closeTimeoutMs: 5000,
  maxLoad: 0.8,
  sessionTimeoutS: 3600,
  idleTimeoutS: 60,
  maxMessageBytes: 1024 * 1024,
  maxUtteranceS: 25,
  maxPendingS: 60,
  maxBufferedBytes: 1024 * 1024,
  maxUploadBytes: 25 * 1024 * 1024,
  maxFileSeconds: 7200,
  maxRestJobs: 2,
  demo: true,
  publicInfo: true,
  offline: false,
  shutdownGraceMs: 10_000,
  drainDelayMs: 0,
  beamSize: 1,
  speakerThreads: 1,
  speculativeFinalMs: 60,
  reviseMaxMs: 28_000,
  reviseBeamSize: DEFAULT_STREAMING_SESSION_OPTIONS.reviseBeamSize,
} as const satisfies ServerOptions

export type ResolvedServerOptions = Omit<ServerOptions, keyof typeof DEFAULT_SERVER_OPTIONS> & {
  -readonly [K in keyof typeof DEFAULT_SERVER_OPTIONS]: NonNullable<ServerOptions[K]>
}

function bad(message: string): never {
  throw new WsError('invalid_config', message)
}

function checkInt(name: string, value: number, min: number, max: number) {
  if (!Number.isInteger(value) || value < min || value > max)
    bad(`${name} must be an integer from ${min} to ${max}, got ${value}`)
}

/** Fills in defaults and checks every option; throws `invalid_config` with a one-line message. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const o = withDefaults(DEFAULT_SERVER_OPTIONS, options) as ResolvedServerOptions
  if (typeof o.backend === 'string' && !(BACKEND_NAMES as readonly string[]).includes(o.backend))
    bad(`backend must be one of ${BACKEND_NAMES.join(', ')}, got "${o.backend}"`)
  if ((o.backend === 'openai' || o.backend === 'whisper-server') && !o.backendUrl)
    bad(`backend ${o.backend} needs backendUrl (--backend-url, WHISPER_BACKEND_URL)`)
  if (o.backendConcurrency !== undefined) checkInt('backendConcurrency', o.backendConcurrency, 1, 1024)
  if (typeof o.backend === 'object' && typeof o.backend?.transcribe !== 'function')
    bad('backend must be a backend name or a WhisperBackend')
  if (typeof o.vad === 'string' && !(VAD_NAMES as readonly string[]).includes(o.vad))
    bad(`vad must be one of ${VAD_NAMES.join(', ')}, got "${o.vad}"`)
  if (typeof o.model !== 'string' || o.model === '') bad('model must be a model name or a path')
  checkInt('port', o.port, 0, 65_535)
  if (o.wyomingPort !== undefined) {
    checkInt('wyomingPort', o.wyomingPort, 0, 65_535)
    if (o.wyomingPort !== 0 && o.wyomingPort === o.port) bad(`wyomingPort must differ from port (${o.port})`)
  }
  try {
    checkSessionOption('partial_interval_ms', o.partialIntervalMs)
  } catch {
    bad(`partialIntervalMs must be 0 (off) or an integer from 50 to 60000, got ${o.partialIntervalMs}`)
  }
  checkInt('maxClients', o.maxClients, 1, 10_000)
  checkInt('maxConnections', o.maxConnections, 1, 100_000)
  if (o.maxConnections < o.maxClients)
    bad(`maxConnections (${o.maxConnections}) must be at least maxClients (${o.maxClients})`)
  checkInt('noAudioTimeoutS', o.noAudioTimeoutS, 0, 86_400)
  checkInt('maxInvalidMessages', o.maxInvalidMessages, 1, 1_000_000)
  checkInt('closeTimeoutMs', o.closeTimeoutMs, 100, 600_000)
  if (!(o.maxLoad > 0 && o.maxLoad <= 8)) bad(`maxLoad must be in (0, 8], got ${o.maxLoad}`)
  checkInt('sessionTimeoutS', o.sessionTimeoutS, 0, 7 * 86_400)
  checkInt('idleTimeoutS', o.idleTimeoutS, 0, 86_400)
  checkInt('maxMessageBytes', o.maxMessageBytes, 1024, 64 * 1024 * 1024)
  if (!(o.maxUtteranceS >= 1 && o.maxUtteranceS <= 29))
    bad(`maxUtteranceS must be from 1 to 29, got ${o.maxUtteranceS}`)
  if (!(o.maxPendingS >= o.maxUtteranceS))
    bad(`maxPendingS must be at least maxUtteranceS (${o.maxUtteranceS})`)
  checkInt('maxBufferedBytes', o.maxBufferedBytes, 1024, 1024 * 1024 * 1024)
  checkInt('maxUploadBytes', o.maxUploadBytes, 1024, 4 * 1024 * 1024 * 1024)
  checkInt('maxFileSeconds', o.maxFileSeconds, 1, 86_400)
  checkInt('maxRestJobs', o.maxRestJobs, 1, 1024)
  checkInt('shutdownGraceMs', o.shutdownGraceMs, 0, 600_000)
  checkInt('drainDelayMs', o.drainDelayMs, 0, 600_000)
  checkInt('speculativeFinalMs', o.speculativeFinalMs, 0, 10_000)
  if (o.minFinalWindowMs !== undefined) checkInt('minFinalWindowMs', o.minFinalWindowMs, 0, 30_000)
  if (o.reviseMaxMs !== 0) checkInt('reviseMaxMs', o.reviseMaxMs, 5000, 30_000)
  checkInt('beamSize', o.beamSize, 1, MAX_BEAM_SIZE)
  checkInt('reviseBeamSize', o.reviseBeamSize, 1, MAX_BEAM_SIZE)
  if (o.threads !== undefined) checkInt('threads', o.threads, 1, 256)
  checkInt('speakerThreads', o.speakerThreads, 1, 16)
  if (o.finalWindow !== undefined && !(FINAL_WINDOWS as readonly unknown[]).includes(o.finalWindow))
    bad(`finalWindow must be one of ${FINAL_WINDOWS.join(', ')}, got "${String(o.finalWindow)}"`)
  if (
    o.noSpeechThreshold !== undefined &&
    o.noSpeechThreshold !== 'off' &&
    !(typeof o.noSpeechThreshold === 'number' && o.noSpeechThreshold >= 0 && o.noSpeechThreshold <= 1)
  )
    bad(`noSpeechThreshold must be 0 to 1 or "off", got ${String(o.noSpeechThreshold)}`)
  if (o.computeType !== undefined) {
    if (o.backend !== 'faster') bad('computeType is an option of the faster backend (--backend faster)')
    if (!(COMPUTE_TYPES as readonly string[]).includes(o.computeType))
      bad(`computeType must be one of ${COMPUTE_TYPES.join(', ')}, got "${o.computeType}"`)
  }
  if (o.authToken !== undefined && (typeof o.authToken !== 'string' || o.authToken.length < 1))
    bad('authToken must be a non-empty string')
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) bad('tlsCert and tlsKey go together')
  return o
}

/** Environment variables the server reads (the seeds' names), and the option each sets. */
export const ENVIRONMENT = {
  WHISPER_BACKEND: 'backend',
  WHISPER_BACKEND_URL: 'backendUrl',
  WHISPER_BACKEND_API_KEY: 'backendApiKey',
  WHISPER_BACKEND_CONCURRENCY: 'backendConcurrency',
  WHISPER_MODEL: 'model',
  VAD_BACKEND: 'vad',
  HOST: 'host',
  PORT: 'port',
  WYOMING_PORT: 'wyomingPort',
  PARTIAL_INTERVAL_MS: 'partialIntervalMs',
  MAX_CLIENTS: 'maxClients',
  MAX_CONNECTIONS: 'maxConnections',
  NO_AUDIO_TIMEOUT_S: 'noAudioTimeoutS',
  MAX_FILE_SECONDS: 'maxFileSeconds',
  MAX_REST_JOBS: 'maxRestJobs',
  SESSION_TIMEOUT_S: 'sessionTimeoutS',
  IDLE_TIMEOUT_S: 'idleTimeoutS',
  MAX_UTTERANCE_S: 'maxUtteranceS',
  WS_AUTH_TOKEN: 'authToken',
  WS_TLS_CERT: 'tlsCert',
  WS_TLS_KEY: 'tlsKey',
  WHISPER_BEAM_SIZE: 'beamSize',
  WHISPER_THREADS: 'threads',
  WS_SPEAKER_THREADS: 'speakerThreads',
  WHISPER_COMPUTE_TYPE: 'computeType',
  WHISPER_FINAL_WINDOW: 'finalWindow',
  WHISPER_MIN_FINAL_WINDOW_MS: 'minFinalWindowMs',
  WHISPER_NO_SPEECH_THRESHOLD: 'noSpeechThreshold',
  DRAIN_DELAY_MS: 'drainDelayMs',
} as const satisfies Record<string, keyof ServerOptions>

const NUMERIC = new Set<keyof ServerOptions>([
  'maxLoad',
  'speculativeFinalMs',
  'minFinalWindowMs',
  'reviseMaxMs',
  'reviseBeamSize',
  'port',
  'wyomingPort',
  'partialIntervalMs',
  'maxClients',
  'maxConnections',
  'noAudioTimeoutS',
  'maxInvalidMessages',
  'closeTimeoutMs',
  'maxFileSeconds',
  'maxRestJobs',
  'maxUploadBytes',
  'sessionTimeoutS',
  'idleTimeoutS',
  'maxUtteranceS',
  'beamSize',
  'threads',
  'speakerThreads',
  'drainDelayMs',
  'shutdownGraceMs',
  'backendConcurrency',
])

/** Converts a flag or variable's text to the option's type; throws `invalid_config`. */
export function parseOptionValue(key: keyof ServerOptions, text: string, source: string): unknown {
  if (key === 'noSpeechThreshold' && text.trim() === 'off') return 'off'
  if (!NUMERIC.has(key) && key !== 'noSpeechThreshold') return text
  if (!/^\d+(\.\d+)?$/.test(text.trim())) bad(`${source} must be a number, got "${text}"`)
  return Number(text)
}

/** Options from the environment (unset or empty variables are skipped). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerOptions {
  const out: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    out[key] = parseOptionValue(key, value, name)
  }
  return out as ServerOptions
}
