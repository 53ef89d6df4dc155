/**
 * `@ws/core/testing`: fakes for unit tests of logic, and the conformance suites that every
 * backend and VAD adapter runs against the real thing.
 */

export {
  composeUtterances,
  mixAtSnr,
  overTelephone,
  pinkNoise,
  speechRms,
  type VadTestCorpusOptions,
  vadTestCorpus,
} from './audio-mix.js'
export {
  type BackendConformanceOptions,
  backendConformance,
  type SpeechFixture,
} from './backend-conformance.js'
export {
  type ConformanceCase,
  ConformanceError,
  type ConformanceReport,
  type ConformanceSuite,
  check,
  expectWsError,
  registerConformance,
  runConformance,
} from './conformance.js'
export {
  type ConversationOptions,
  type ConversationTurn,
  realConversation,
  speakerEnd,
  TURN_END_BELOW_PEAK_DB,
} from './conversation.js'
export { FakeBackend, type FakeBackendCall, type FakeBackendOptions } from './fake-backend.js'
export { EnergyVad, type EnergyVadOptions } from './fake-vad.js'
export { type LoadedSpeechFixture, loadSpeechFixtures, type SpeechFixtureInfo } from './fixtures.js'
export { freePort, waitUntil } from './net.js'
export {
  hasRealSpeech,
  type LoadedRealSpeech,
  REAL_SPEECH_CORPORA,
  REAL_SPEECH_SETUP,
  type RealSpeechCorpus,
  type RealSpeechInfo,
  type RealSpeechSegment,
  realSpeechDir,
  realSpeechFixtures,
} from './real-speech.js'
export { type SynthesizedSpeech, SyntheticVoice, type SyntheticVoiceOptions } from './synthetic-voice.js'
export { type VadConformanceOptions, type VadSpeechFixture, vadConformance } from './vad-conformance.js'
