#!/usr/bin/env node
// An app on the official `openai` client, unmodified but for its base URL, streaming audio to
// a realtime transcription session. Used by the drop-in tests and the protocol bench.
//   CLIENT='{"module":"openai","shape":"ga-intent","baseURL":"https://127.0.0.1:8765/v1",
//            "apiKey":"…","audio":"speech.raw","format":"pcm16","speed":4}' node openai-realtime.mjs
// `shape`: ga-intent (openai 7: `intent: 'transcription'`), ga-model (openai 5/6: `?model=`),
// beta (openai 4-6: `openai/beta/realtime/ws`). `audio`: raw PCM16 24 kHz, or G.711 8 kHz bytes.
// Prints one JSON line per server event, with `at_ms` (ms since the first audio was sent).
import { readFileSync } from 'node:fs'

const c = JSON.parse(process.env.CLIENT ?? '{}')
const { default: OpenAI } = await import(c.module)
const beta = c.shape === 'beta'
const { OpenAIRealtimeWS } = await import(`${c.module}/${beta ? 'beta/realtime/ws' : 'realtime/ws'}`)
const client = new OpenAI({ apiKey: c.apiKey, baseURL: c.baseURL })
const rt =
  c.shape === 'ga-intent'
    ? new OpenAIRealtimeWS({ intent: 'transcription' }, client)
    : new OpenAIRealtimeWS({ model: c.model ?? 'whisper-1' }, client)

const started = performance.now()
let firstAudioAt
const print = (event) =>
  process.stdout.write(
    `${JSON.stringify({ ...event, at_ms: firstAudioAt === undefined ? null : Math.round(performance.now() - firstAudioAt) })}\n`,
  )
let committed = 0
let done = 0
let lastEventAt = performance.now()
const seen = (type) => {
  lastEventAt = performance.now()
  if (type === 'input_audio_buffer.committed') committed++
  if (
    type === 'conversation.item.input_audio_transcription.completed' ||
    type === 'conversation.item.input_audio_transcription.failed'
  )
    done++
}
rt.socket.on('message', (data) => {
  const event = JSON.parse(data.toString())
  seen(event.type)
  print(event)
})
rt.on('error', (err) => print({ type: 'client.error', message: String(err?.message ?? err) }))
await new Promise((resolve, reject) => {
  rt.socket.once('open', resolve)
  rt.socket.once('error', reject)
})
print({
  type: 'client.open',
  protocol: rt.socket.protocol,
  url: String(rt.url),
  ms: Math.round(performance.now() - started),
})

const turnDetection = c.turnDetection === undefined ? undefined : c.turnDetection
const gaFormat = {
  pcm16: { type: 'audio/pcm', rate: 24000 },
  g711_ulaw: { type: 'audio/pcmu' },
  g711_alaw: { type: 'audio/pcma' },
}
const format = c.format ?? 'pcm16'
if (beta) {
  rt.send({
    type: 'transcription_session.update',
    session: {
      input_audio_format: format,
      input_audio_transcription: { model: 'whisper-1', language: c.language ?? 'en' },
      ...(turnDetection === undefined ? {} : { turn_detection: turnDetection }),
    },
  })
} else {
  rt.send({
    type: 'session.update',
    session: {
      type: 'transcription',
      audio: {
        input: {
          format: gaFormat[format],
          transcription: { model: 'gpt-4o-transcribe', language: c.language ?? 'en' },
          ...(turnDetection === undefined ? {} : { turn_detection: turnDetection }),
        },
      },
    },
  })
}
for (const extra of c.extraEvents ?? []) rt.send(extra)

const audio = readFileSync(c.audio)
const bytesPerSecond = format === 'pcm16' ? 48_000 : 8000
const chunk = Math.round(bytesPerSecond / 10) // 100 ms
const speed = c.speed ?? 1
firstAudioAt = performance.now()
for (let i = 0, n = 0; i < audio.length; i += chunk, n++) {
  rt.send({ type: 'input_audio_buffer.append', audio: audio.subarray(i, i + chunk).toString('base64') })
  const due = firstAudioAt + ((n + 1) * 100) / speed
  const wait = due - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}
if (c.commit) rt.send({ type: 'input_audio_buffer.commit' })
// Done when every committed item has its transcript and nothing came for a while.
const deadline = performance.now() + (c.timeoutMs ?? 60_000)
while (performance.now() < deadline) {
  if (committed > 0 && done >= committed && performance.now() - lastEventAt > (c.quietMs ?? 1500)) break
  await new Promise((r) => setTimeout(r, 50))
}
rt.close({ code: 1000, reason: 'done' })
await new Promise((r) => setTimeout(r, 100))
print({ type: 'client.closed' })
process.exit(0)
