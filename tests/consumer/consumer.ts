// A consumer's ESM TypeScript: every package's public entries, type-checked in a project
// installed from the tarballs (tests/user-install.test.ts) with --strict and without
// skipLibCheck, under node16 and bundler resolution. Not run: its types are the test.
import { FasterWhisperBackend, type FasterWhisperOptions } from '@ws/backend-faster'
import { OpenAiBackend } from '@ws/backend-openai'
import { WhisperCppBackend, type WhisperCppOptions } from '@ws/backend-whispercpp'
import { connect, readAudio, streamAudio } from '@ws/client'
import { type SessionEvent, StreamingSession, type WhisperBackend, WsError, wordErrorRate } from '@ws/core'
import { EXIT_CODES, runCli } from '@ws/core/node'
import { FakeBackend, SyntheticVoice } from '@ws/core/testing'
import { cacheDir, type ProgressEvent, resolveGgmlModel } from '@ws/models'
import { createServer, type ServerOptions } from '@ws/server'
import { SileroVad, type SileroVadOptions } from '@ws/vad-silero'
import { WebRtcVad } from '@ws/vad-webrtc'
import { createVoiceServer, EspeakSynthesizer, LocalChatModel, type VoiceServerMessage } from '@ws/voice'
import { WhisperModel } from '@ws/whispercpp-addon'

const cpp: WhisperCppOptions = { beamSize: 1 }
const faster: FasterWhisperOptions = { beamSize: 1 }
const backends: WhisperBackend[] = [
  new WhisperCppBackend(cpp),
  new FasterWhisperBackend(faster),
  new OpenAiBackend({ baseUrl: 'http://127.0.0.1:8765/v1' }),
]
const silero: SileroVadOptions = { threshold: 0.5 }
const vads = [await SileroVad.create(silero), await WebRtcVad.create({ sampleRate: 16_000 })]
const options: ServerOptions = { backend: 'whispercpp', port: 0, vad: async () => vads[0]! }
const server = createServer(options)
const session = new StreamingSession({ backend: backends[0]!, strategy: 'prompt' })
const handle = (event: SessionEvent): string => (event.type === 'final' ? event.text : '')
const fake = new FakeBackend({ voice: new SyntheticVoice({ vocabulary: ['a'] }) })
const client = connect('ws://127.0.0.1:8765', { strategy: 'prompt' })
const audio: Float32Array = await readAudio('speech.wav')
const sent: Promise<void> = streamAudio(client, audio)
const model: Promise<WhisperModel> = WhisperModel.load('ggml-tiny.en.bin')
const ggml = await resolveGgmlModel('tiny.en', { onProgress: (e: ProgressEvent) => e.stage })
const wer: number = wordErrorRate('a b', 'a c').wer
const code: number = EXIT_CODES.usage
const error = new WsError('invalid_config', 'x')
runCli('consumer', async () => EXIT_CODES.ok)
const voice = createVoiceServer({
  backend: backends[0]!,
  chat: new LocalChatModel(),
  tts: new EspeakSynthesizer(),
})
const spoken = (m: VoiceServerMessage): string => (m.type === 'audio_chunk' ? m.url : '')

export {
  backends,
  cacheDir,
  client,
  code,
  error,
  fake,
  ggml,
  handle,
  model,
  sent,
  server,
  session,
  spoken,
  voice,
  wer,
}
