#!/usr/bin/env node
// This server's own protocol from a plain `ws` client, paced like the SDK clients beside it:
// the baseline of the drop-in protocols' bench.
//   CLIENT='{"url":"wss://127.0.0.1:8765/ws/transcribe/prompt?revisions=false","audio":"speech.raw","speed":1}'
// `audio`: raw PCM16 at `sampleRate` (16000 unless given; the URL's `sample_rate` says it to
// the server). Prints one JSON line per server message, with `at_ms`.
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'

const c = JSON.parse(process.env.CLIENT ?? '{}')
let firstAudioAt
const print = (m) =>
  process.stdout.write(
    `${JSON.stringify({ ...m, at_ms: firstAudioAt === undefined ? null : Math.round(performance.now() - firstAudioAt) })}\n`,
  )
const ws = new WebSocket(c.url)
const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)))
ws.on('message', (data) => print(JSON.parse(data.toString())))
await new Promise((resolve, reject) => {
  ws.once('open', resolve)
  ws.once('error', reject)
})
const audio = readFileSync(c.audio)
const chunk = ((c.sampleRate ?? 16_000) * 2) / 10 // 100 ms
const speed = c.speed ?? 1
firstAudioAt = performance.now()
for (let i = 0, n = 0; i < audio.length; i += chunk, n++) {
  ws.send(audio.subarray(i, i + chunk))
  const wait = firstAudioAt + ((n + 1) * 100) / speed - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}
ws.send(JSON.stringify({ type: 'end' }))
print({ type: 'client.close', code: await closed })
process.exit(0)
