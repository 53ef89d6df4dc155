export { DEFAULT_WHISPER_CPP_OPTIONS, WhisperCppBackend, type WhisperCppOptions } from './backend.js'
