// Final latency and capacity of the server on this machine: N clients stream speech in real
// time (20 ms PCM16 frames) with server VAD; for each utterance, the time from the moment its
// last speech sample was sent to its final's arrival. Capacity: the largest N whose p95 stays
// under 1 s. CPU is this process's (server and clients; a Python worker's is not counted).
//
//   node packages/server/bench/latency.mjs [--strategy prompt] [--max 6] [--backend whispercpp]
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate, encodePcm16le } from '@ws/core'
import { composeUtterances, loadSpeechFixtures } from '@ws/core/testing'
import { pino } from 'pino'
import WebSocket from 'ws'
import { createServer } from '../dist/index.js'

const { values } = parseArgs({
  options: {
    strategy: { type: 'string', default: 'prompt' },
    backend: { type: 'string', default: 'whispercpp' },
    max: { type: 'string', default: '6' },
    sentences: { type: 'string', default: '5' },
    'beam-size': { type: 'string' },
  },
})
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const harvard = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const SR = 16_000
const FRAME = 320

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

async function client(url, offset) {
  const fixtures = Array.from(
    { length: Number(values.sentences) },
    (_, i) => harvard[(i + offset) % harvard.length],
  )
  const { audio, utterances } = composeUtterances(fixtures, [1.5, 0.8, 1.2], {
    leadSeconds: 0.5,
    trailSeconds: 1.5,
  })
  const ws = new WebSocket(url)
  const finals = []
  const speechEnds = []
  const sentAt = new Map() // utterance index → wall time its last speech sample was sent
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString())
    if (m.type === 'final') finals.push({ ...m, at: performance.now() })
    if (m.type === 'speech_end') speechEnds.push({ t: m.t, at: performance.now() })
    if (m.type === 'error') console.error('error', m.code, m.message)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const started = performance.now()
  for (let i = 0; i < audio.length; i += FRAME) {
    const end = (i + FRAME) / SR
    utterances.forEach((u, k) => {
      if (!sentAt.has(k) && end >= u.end) sentAt.set(k, performance.now())
    })
    ws.send(encodePcm16le(audio.subarray(i, i + FRAME)))
    const wait = started + end * 1000 - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  const closed = new Promise((resolve) => ws.on('close', resolve))
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  // Match each utterance to the final that covers its end.
  const latencies = []
  const vadLatencies = []
  utterances.forEach((u, k) => {
    const f = finals.find((x) => x.audio_start <= u.end && x.audio_end >= u.end - 0.05)
    if (f && sentAt.has(k)) latencies.push(f.at - sentAt.get(k))
    const e = speechEnds.find((x) => x.t >= u.end - 0.05)
    if (e && sentAt.has(k)) vadLatencies.push(e.at - sentAt.get(k))
  })
  const hypothesis = finals.map((f) => f.text).join(' ')
  const reference = fixtures.map((f) => f.text).join(' ')
  return { latencies, vadLatencies, reference, hypothesis }
}

const server = createServer({
  backend: values.backend,
  port: 0,
  maxClients: 64,
  maxLoad: 8,
  ...(values['beam-size'] ? { beamSize: Number(values['beam-size']) } : {}),
  logger: pino({ level: 'warn' }),
})
await server.listen()
const url = `${server.url.replace('http', 'ws')}/ws/transcribe/${values.strategy}`
console.log(
  `# ${values.backend} tiny.en, strategy ${values.strategy}, beam ${values['beam-size'] ?? 'default'}, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.versions.node}`,
)
console.log('| sessions | finals | final latency p50 | p95 | speech_end p50 | WER | Node CPU s per audio s |')
console.log('|---:|---:|---:|---:|---:|---:|---:|')
let capacity = 0
for (let n = 1; n <= Number(values.max); n++) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const results = await Promise.all(Array.from({ length: n }, (_, i) => client(url, i * 2)))
  const cpu = process.cpuUsage(cpu0)
  const latencies = results.flatMap((r) => r.latencies)
  const wer = corpusWordErrorRate(results.map((r) => ({ reference: r.reference, hypothesis: r.hypothesis })))
  const audioSeconds = n * ((performance.now() - t0) / 1000)
  const p50 = quantile(latencies, 0.5)
  const p95 = quantile(latencies, 0.95)
  if (p95 < 1000) capacity = n
  console.log(
    `| ${n} | ${latencies.length} | ${p50.toFixed(0)} ms | ${p95.toFixed(0)} ms | ${quantile(
      results.flatMap((r) => r.vadLatencies),
      0.5,
    ).toFixed(
      0,
    )} ms | ${(wer * 100).toFixed(1)} % | ${((cpu.user + cpu.system) / 1e6 / audioSeconds).toFixed(3)} |`,
  )
}
console.log(`\ncapacity (p95 final latency < 1 s): ${capacity} sessions`)
await server.close()
