import {
  type InferenceGate,
  type Logger,
  type StrategyName,
  type VadBackend,
  type WhisperBackend,
  WsError,
  withDefaults,
} from '@ws/core'
import type { AudioStore } from './audio-store.js'
import type { ChatModel } from './chat-model.js'
import type { SpeechSynthesizer } from './tts.js'

/** What a voice endpoint needs and how it behaves; defaults in {@link DEFAULT_VOICE_OPTIONS}. */
export interface VoiceOptions {
  /** Transcribes the user's speech (its model loaded). */
  backend: WhisperBackend
  /** A VAD per recording, for partials that follow the speech and for barge-in; none: the recording is one utterance. */
  createVad?: () => Promise<VadBackend>
  /** Shares the backend with other sessions (an InferenceScheduler's gate). */
  gate?: InferenceGate
  /** Writes the answers. */
  chat: ChatModel
  /** Speaks them. */
  tts: SpeechSynthesizer
  /** Where spoken sentences are kept and served from (default: a new 64 MiB store). */
  audio?: AudioStore
  /** The WebSocket path (default `/voice/stream`). */
  path?: string
  /** Where sentence audio is served: `<audioPath><id>.wav` (default `/voice/audio/`). */
  audioPath?: string
  /** The system prompt of every conversation. */
  systemPrompt?: string
  /** Longest answer, in tokens (default 120). */
  maxTokens?: number
  /** Earlier messages sent to the model with each question, at most (default 12; past it the older half is dropped). */
  maxHistoryMessages?: number
  /** Transcription strategy (default `prompt`). */
  strategy?: StrategyName
  /** New audio between partial transcripts, in ms (default 500). */
  partialIntervalMs?: number
  /** How long a conversation is kept after its socket closes, for a reconnect to resume it (default 600 000). */
  conversationTtlMs?: number
  /** Most open sockets; more are refused before the handshake (default 16). */
  maxSessions?: number
  logger?: Logger
}

export const DEFAULT_VOICE_OPTIONS = {
  path: '/voice/stream',
  audioPath: '/voice/audio/',
  systemPrompt:
    'You are a friendly voice assistant. Answer in one to three short, plain sentences: no lists, no markdown, no emoji.',
  maxTokens: 120,
  maxHistoryMessages: 12,
  strategy: 'prompt',
  partialIntervalMs: 500,
  conversationTtlMs: 600_000,
  maxSessions: 16,
} as const satisfies Partial<VoiceOptions>

export type ResolvedVoiceOptions = VoiceOptions &
  Required<Pick<VoiceOptions, keyof typeof DEFAULT_VOICE_OPTIONS>> & { audio: AudioStore }

/** The options with their defaults; throws `invalid_config` naming the option. */
export function validateVoiceOptions(options: VoiceOptions, audio: () => AudioStore): ResolvedVoiceOptions {
  const o = withDefaults(DEFAULT_VOICE_OPTIONS, options)
  const bad = (message: string): never => {
    throw new WsError('invalid_config', message)
  }
  if (!o.backend || typeof o.backend.transcribe !== 'function') bad('backend is required')
  if (!o.chat || typeof o.chat.stream !== 'function') bad('chat (a ChatModel) is required')
  if (!o.tts || typeof o.tts.synthesize !== 'function') bad('tts (a SpeechSynthesizer) is required')
  for (const key of ['path', 'audioPath'] as const)
    if (!o[key].startsWith('/')) bad(`${key} must start with /`)
  if (!o.audioPath.endsWith('/')) bad('audioPath must end with /')
  const int = (key: keyof typeof DEFAULT_VOICE_OPTIONS, min: number, max: number) => {
    const v = o[key] as number
    if (!(Number.isInteger(v) && v >= min && v <= max))
      bad(`${key} must be an integer from ${min} to ${max}, got ${v}`)
  }
  int('maxTokens', 1, 4096)
  int('maxHistoryMessages', 0, 1000)
  int('partialIntervalMs', 0, 60_000)
  int('conversationTtlMs', 0, 86_400_000)
  int('maxSessions', 1, 100_000)
  if (typeof o.systemPrompt !== 'string') bad('systemPrompt must be a string')
  return { ...o, audio: o.audio ?? audio() }
}
