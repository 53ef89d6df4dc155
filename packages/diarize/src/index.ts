// Moved to @ws/core (the server fits REST words to them); still exported here.
export { SPEECH_REGION_DEFAULTS, type SpeechRegionOptions, speechRegions, type TimeRange } from '@ws/core'
export { kmeans, type SymmetricEigen, symmetricEigen } from '../worker/spectral.mjs'
export { attributeSpeakers, type SpeakerOf, speakerByTurns } from './attribute.js'
export {
  CLUSTER_DEFAULTS,
  type Clustering,
  type ClusterOptions,
  clusterEmbeddings,
  clusterInWorker,
  validateSpeakerCounts,
} from './cluster.js'
export { type DerOptions, type DerResult, diarizationErrorRate, toRttm } from './der.js'
export {
  DIARIZE_DEFAULTS,
  type Diarization,
  type DiarizeOptions,
  diarize,
  embeddingWindows,
  type KnownSpeaker,
  MAX_WINDOWS,
  referenceEmbedding,
  type SpeakerTurn,
  speakerLetter,
} from './diarize.js'
export {
  cosine,
  l2normalize,
  MAX_WINDOW_SAMPLES,
  MIN_WINDOW_SAMPLES,
  SPEAKER_EMBEDDER_DEFAULTS,
  SpeakerEmbedder,
  type SpeakerEmbedderOptions,
} from './embedder.js'
export { LIVE_DIARIZER_DEFAULTS, LiveDiarizer, type LiveDiarizerOptions } from './live.js'
