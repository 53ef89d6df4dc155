/**
 * `@ws/client` in the browser (the `browser` export condition, or `browser.bundle.js` for a
 * page without a bundler): the same session and events as in Node, on the page's WebSocket,
 * and the microphone through an AudioWorklet. No `ws`, no Node built-ins.
 */
import type { ConnectOptions } from './options.js'
import { TranscriptionSession } from './session.js'

export {
  captureMicrophone,
  DEFAULT_MICROPHONE_OPTIONS,
  type MicrophoneCapture,
  type MicrophoneOptions,
  streamMicrophone,
} from './browser-microphone.js'
export { transcribeFile } from './rest.js'
export * from './shared-exports.js'
export { TranscriptionSession }

/** Opens a transcription session: `url` is the server (`ws://host:8765`) or a full `/ws/transcribe/…` URL. */
export function connect(url: string, options: ConnectOptions = {}): TranscriptionSession {
  return new TranscriptionSession(url, options)
}
