export { AudioStore, type AudioStoreOptions, DEFAULT_AUDIO_STORE_OPTIONS } from './audio-store.js'
export {
  type ChatMessage,
  type ChatModel,
  type ChatStreamOptions,
  DEFAULT_OPENAI_CHAT_MODEL_OPTIONS,
  OpenAiChatModel,
  type OpenAiChatModelOptions,
} from './chat-model.js'
export {
  DEFAULT_LLM_MODEL,
  LLM_MODELS,
  type LlmModelSpec,
  type ResolveLlmModelOptions,
  resolveLlmModel,
} from './llm-model.js'
export {
  DEFAULT_LOCAL_CHAT_MODEL_OPTIONS,
  LocalChatModel,
  type LocalChatModelOptions,
} from './local-chat-model.js'
export {
  DEFAULT_VOICE_OPTIONS,
  type ResolvedVoiceOptions,
  type VoiceOptions,
  validateVoiceOptions,
} from './options.js'
export {
  type AudioEncoding,
  type AudioFormat,
  MAX_TEXT_CHARS,
  parseVoiceMessage,
  type VoiceClientMessage,
  type VoiceServerMessage,
} from './protocol.js'
export {
  DEFAULT_SENTENCE_SPLITTER_OPTIONS,
  SentenceSplitter,
  type SentenceSplitterOptions,
} from './sentences.js'
export {
  DEFAULT_ESPEAK_OPTIONS,
  type EspeakOptions,
  EspeakSynthesizer,
  fixStreamedWav,
  type OpenAiSpeechOptions,
  OpenAiSpeechSynthesizer,
  type SpeechSynthesizer,
  type SynthesizeOptions,
} from './tts.js'
export { VoiceEndpoint } from './voice-endpoint.js'
export {
  createVoiceServer,
  DEFAULT_VOICE_SERVER_OPTIONS,
  VoiceServer,
  type VoiceServerOptions,
} from './voice-server.js'
