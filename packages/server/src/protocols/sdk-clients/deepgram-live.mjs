#!/usr/bin/env node
// An app on the official `@deepgram/sdk`, unmodified but for its base URL, streaming audio to
// a live transcription. Used by the drop-in tests and the protocol bench.
//   CLIENT='{"module":"@deepgram/sdk","version":5,"url":"wss://127.0.0.1:8765","apiKey":"…",
//            "audio":"speech.raw","query":{"encoding":"linear16","sample_rate":16000},"speed":4}' node deepgram-live.mjs
// `version` 3 or 4: `createClient(…).listen.live()`; 5: `new DeepgramClient().listen.v1.connect()`.
// Prints one JSON line per server message, with `at_ms` (ms since the first audio was sent).
import { readFileSync } from 'node:fs'

const c = JSON.parse(process.env.CLIENT ?? '{}')
const sdk = await import(c.module)
let firstAudioAt
const print = (m) =>
  process.stdout.write(
    `${JSON.stringify({ ...m, at_ms: firstAudioAt === undefined ? null : Math.round(performance.now() - firstAudioAt) })}\n`,
  )
const query = { model: 'nova-3', ...c.query }
let closed
const closedPromise = new Promise((resolve) => {
  closed = resolve
})
let send
let finalize
let closeStream

if (c.version >= 5) {
  const client = new sdk.DeepgramClient({ apiKey: c.apiKey, baseUrl: c.url })
  const conn = await client.listen.v1.connect({
    ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
    reconnectAttempts: 0,
  })
  conn.on('message', (m) => print(m))
  conn.on('close', (e) => {
    print({ type: 'client.close', code: e.code, reason: e.reason })
    closed()
  })
  conn.on('error', (e) => print({ type: 'client.error', message: String(e?.message ?? e) }))
  conn.connect()
  await conn.waitForOpen()
  send = (b) => conn.sendMedia(b)
  finalize = () => conn.sendFinalize({ type: 'Finalize' })
  closeStream = () => conn.sendCloseStream({ type: 'CloseStream' })
} else {
  const { createClient, LiveTranscriptionEvents: E } = sdk
  const dg = createClient(c.apiKey, { global: { websocket: { options: { url: c.url } } } })
  const live = dg.listen.live(query)
  for (const name of [E.Transcript, E.Metadata, E.SpeechStarted, E.UtteranceEnd])
    live.on(name, (m) => print(m))
  live.on(E.Error, (e) => print({ type: 'client.error', message: String(e?.message ?? e) }))
  live.on(E.Close, (e) => {
    print({ type: 'client.close', code: e?.code, reason: e?.reason })
    closed()
  })
  await new Promise((resolve) => live.on(E.Open, resolve))
  send = (b) => live.send(b)
  finalize = () => live.finalize()
  closeStream = () => live.requestClose()
}
print({ type: 'client.open' })

const audio = readFileSync(c.audio)
const bytesPerSecond =
  (query.encoding === 'linear16' || !query.encoding ? 2 : 1) * (query.sample_rate ?? 16000)
const chunk = Math.round(bytesPerSecond / 10) + (c.oddChunks ? 1 : 0)
const speed = c.speed ?? 1
firstAudioAt = performance.now()
for (let i = 0, n = 0; i < audio.length; i += chunk, n++) {
  send(audio.subarray(i, i + chunk))
  const wait = firstAudioAt + ((n + 1) * 100) / speed - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}
if (c.finalize) finalize()
await new Promise((r) => setTimeout(r, c.settleMs ?? 0))
closeStream()
await Promise.race([closedPromise, new Promise((r) => setTimeout(r, c.timeoutMs ?? 60_000))])
print({ type: 'client.done' })
process.exit(0)
