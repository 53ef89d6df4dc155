export {
  DEFAULT_MIN_FINAL_WINDOW_MS,
  DEFAULT_WHISPER_CPP_NO_SPEECH_RULE,
  DEFAULT_WHISPER_CPP_OPTIONS,
  hasLoop,
  WhisperCppBackend,
  type WhisperCppOptions,
} from './backend.js'
export { DEFAULT_WHISPER_CLI_OPTIONS, WhisperCliBackend, type WhisperCliOptions } from './cli-backend.js'
