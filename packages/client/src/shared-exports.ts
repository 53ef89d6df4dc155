// What both entry points (index.ts for Node, browser.ts) export alike.
export {
  type ClientEvent,
  type ClientEventType,
  type ConnectOptions,
  DEFAULT_RECONNECT_OPTIONS,
  DEFAULT_STRATEGY,
  type EventOf,
  type ReconnectedEvent,
  type ReconnectingEvent,
  type ReconnectOptions,
  sessionUrl,
} from './options.js'
export {
  audioDataUrl,
  type DiarizedSegment,
  type DiarizedTranscription,
  type JsonTranscription,
  type KnownSpeaker,
  MAX_SPEAKERS,
  RESPONSE_FORMATS,
  type ResponseFormat,
  type TranscribeFileOptions,
  type TranscriptionResponse,
  type TranscriptionSegment,
  type TranscriptionWord,
  transcriptionForm,
  transcriptionUrl,
  type VerboseTranscription,
} from './rest.js'
export type { ClientSocket, SocketEvents, SocketFactory } from './socket.js'
export {
  formatTurn,
  formatTurns,
  type SpeakerTurn,
  segmentsToSrt,
  segmentsToVtt,
  speakerText,
  speakerTurns,
  type TimedText,
} from './speaker-format.js'
