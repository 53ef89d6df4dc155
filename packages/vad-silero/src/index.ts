export {
  createVad,
  DEFAULT_SILERO_VAD_OPTIONS,
  SILERO_MODEL_PATH,
  SILERO_SEGMENTER_DEFAULTS,
  SileroVad,
  type SileroVadOptions,
} from './silero-vad.js'
