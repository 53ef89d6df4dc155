/**
 * `@ws/server`: the whisper-stream transcription service. `npx @ws/server` runs it; this
 * module is the programmatic API.
 */
export { createEngine, type Engine } from './engine.js'
export { ServerMetrics } from './metrics.js'
export {
  BACKEND_NAMES,
  type BackendName,
  DEFAULT_SERVER_OPTIONS,
  ENVIRONMENT,
  optionsFromEnv,
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerOptions,
  VAD_NAMES,
  type VadName,
} from './options.js'
export {
  decodeWyomingEvent,
  encodeWyomingEvent,
  WYOMING_VERSION,
  type WyomingEvent,
  WyomingFrameParser,
  type WyomingLimits,
} from './protocols/wyoming-framing.js'
export {
  formatTranscript,
  RESPONSE_FORMATS,
  type ResponseFormat,
  toSrt,
  toVtt,
} from './rest.js'
export { createServer, WhisperStreamServer } from './server.js'
