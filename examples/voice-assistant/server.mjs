// The voice assistant example: `npm start`, then open the printed URL.
// whisper.cpp (tiny.en) hears you, a local LLM (SmolLM2-135M-Instruct through node-llama-cpp,
// downloaded on first run) answers, espeak-ng speaks each sentence; or any OpenAI-compatible
// chat and speech endpoints with --llm-url / --tts-url.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { createVad } from '@ws/vad-webrtc'
import {
  createVoiceServer,
  EspeakSynthesizer,
  LocalChatModel,
  OpenAiChatModel,
  OpenAiSpeechSynthesizer,
} from '@ws/voice'
import { build } from 'esbuild'

const HELP = `Usage: npm start -- [options]
  --port <n>          port (default 8766; 0 picks one)
  --host <addr>       interface (default 127.0.0.1)
  --model <name>      Whisper model (default tiny.en)
  --llm-url <url>     an OpenAI-compatible API (…/v1) instead of the local model
  --llm-model <name>  its model (default gpt-4o-mini)
  --tts-url <url>     an OpenAI-compatible /audio/speech API (…/v1) instead of espeak-ng
  --tts-voice <name>  its voice (default alloy)
API keys: $LLM_API_KEY, $TTS_API_KEY.`

const { values: o } = parseArgs({
  options: {
    port: { type: 'string', default: '8766' },
    host: { type: 'string', default: '127.0.0.1' },
    model: { type: 'string', default: 'tiny.en' },
    'llm-url': { type: 'string' },
    'llm-model': { type: 'string', default: 'gpt-4o-mini' },
    'tts-url': { type: 'string' },
    'tts-voice': { type: 'string', default: 'alloy' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (o.help) {
  console.log(HELP)
  process.exit(0)
}

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const progress = (e) => console.error(`  ${e.message}`)

// The page: React and the hook bundled for the browser (@ws/client's browser build).
await build({
  entryPoints: [here('src/main.jsx')],
  outfile: here('public/app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  jsx: 'automatic',
  minify: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
})

console.error(`Loading Whisper ${o.model}…`)
const backend = new WhisperCppBackend({ onProgress: progress })
await backend.loadModel(o.model)

const chat = o['llm-url']
  ? new OpenAiChatModel({ baseUrl: o['llm-url'], model: o['llm-model'], apiKey: process.env.LLM_API_KEY })
  : new LocalChatModel({ onProgress: progress })
if (chat instanceof LocalChatModel) {
  console.error('Loading the chat model…')
  await chat.load()
}
const tts = o['tts-url']
  ? new OpenAiSpeechSynthesizer({
      baseUrl: o['tts-url'],
      voice: o['tts-voice'],
      apiKey: process.env.TTS_API_KEY,
    })
  : new EspeakSynthesizer()

const server = createVoiceServer({
  backend,
  createVad,
  chat,
  tts,
  port: Number(o.port),
  host: o.host,
  staticDir: here('public'),
})
await server.listen()
console.log(`Voice assistant: ${server.url}/`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.close()
  await chat.close()
  await backend.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
