// Transcribe a file with a whisper-stream server and print each final as it comes.
//
//   npx @ws/server &                                   # in another terminal
//   node index.mjs speech.wav [ws://127.0.0.1:8765]
import { connect, readAudio, streamAudio } from '@ws/client'

const [file, url = process.env.WS_SERVER_URL ?? 'ws://127.0.0.1:8765'] = process.argv.slice(2)
if (!file) {
  console.error('usage: node index.mjs <audio file> [server url]')
  process.exit(2)
}

const audio = await readAudio(file) // WAV at any rate; other formats through ffmpeg
const session = connect(url, { strategy: 'hybrid' })
await session.ready

// Send the audio (as fast as the server reads it), then ask for the last final.
const sending = streamAudio(session, audio).then(() => session.end())

for await (const event of session) {
  if (event.type === 'final' && event.text) {
    console.log(`[${event.audio_start.toFixed(2)}–${event.audio_end.toFixed(2)} s] ${event.text}`)
  }
  if (event.type === 'error') console.error(`server error ${event.code}: ${event.message}`)
}
await sending
