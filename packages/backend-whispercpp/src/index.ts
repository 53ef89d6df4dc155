export { DEFAULT_WHISPER_CPP_OPTIONS, hasLoop, WhisperCppBackend, type WhisperCppOptions } from './backend.js'
