/**
 * `@ws/client`: talk to a whisper-stream server from Node. `connect()` opens a session;
 * `transcribeFile()` sends a whole file (REST), with speakers if asked;
 * `readAudio`, `streamAudio` and `microphone` feed it; `ClientVad` ends utterances on the
 * client side.
 */
export { ClientVad, type ClientVadName } from './client-vad.js'
export { type AudioFile, transcribeFile } from './node-rest.js'
export { connect, TranscriptionSession } from './node-session.js'
export * from './shared-exports.js'
export { microphone, readAudio, type StreamAudioOptions, streamAudio } from './sources.js'
