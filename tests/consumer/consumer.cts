// The same packages required from CommonJS TypeScript (their .d.cts declarations).
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { connect } from '@ws/client'
import { StreamingSession, type WhisperBackend } from '@ws/core'
import { EXIT_CODES } from '@ws/core/node'
import { FakeBackend } from '@ws/core/testing'
import { cacheDir } from '@ws/models'
import { createServer } from '@ws/server'
import { SileroVad } from '@ws/vad-silero'
import { WebRtcVad } from '@ws/vad-webrtc'
import { OpenAiChatModel } from '@ws/voice'
import { WhisperModel } from '@ws/whispercpp-addon'

export function make(): unknown[] {
  const backend: WhisperBackend = new WhisperCppBackend()
  return [
    new StreamingSession({ backend }),
    connect('ws://127.0.0.1:8765'),
    EXIT_CODES.failure,
    FakeBackend,
    cacheDir(),
    createServer({ port: 0 }),
    SileroVad.create(),
    WebRtcVad.create(),
    WhisperModel.load('ggml-tiny.en.bin'),
    new OpenAiChatModel({ baseUrl: 'http://127.0.0.1:8080/v1', model: 'm' }),
  ]
}
