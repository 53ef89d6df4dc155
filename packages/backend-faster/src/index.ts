export {
  DEFAULT_FASTER_WHISPER_NO_SPEECH_RULE,
  DEFAULT_FASTER_WHISPER_OPTIONS,
  FasterWhisperBackend,
  type FasterWhisperOptions,
} from './backend.js'
export { encodeFrame, type Frame, FrameDecoder } from './frames.js'
export { ensurePythonEnv, type PythonEnv, type PythonEnvOptions } from './python-env.js'
