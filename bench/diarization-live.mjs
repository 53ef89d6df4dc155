// Live diarization through the server (`diarize=true` on /ws/transcribe/prompt): conversations of
// real voices (as bench/diarization.mjs) streamed in real time, each twice — without speakers,
// then with — to the same server (whisper.cpp, multilingual `base`). Per conversation: live DER
// (0.25 s collar) of the finals' labelled segments, speakers found, and the final latency (from
// the moment the final's audio end was sent to the final's arrival) p50 / p90 in each run: the
// cost of `diarize=true` is the difference. Peak RSS of the server process.
//   node bench/diarization-live.mjs [--out bench/results/diarization-live] [--speed 1]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { encodePcm16le } from '@ws/core'
import { realConversation, realSpeechFixtures } from '@ws/core/testing'
import { diarizationErrorRate } from '@ws/diarize'
import { createServer } from '@ws/server'
import { pino } from 'pino'
import WebSocket from 'ws'

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/diarization-live' },
    speed: { type: 'string', default: '1' },
    model: { type: 'string', default: 'base' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (args.help) {
  console.log(`Usage: node bench/diarization-live.mjs [--out <dir>] [--speed <× real time>] [--model base]`)
  process.exit(0)
}
const speed = Number(args.speed)

const nl = realSpeechFixtures('real-nl')
const voice = (clips) => clips.filter((c) => c.speechEnd - c.speechStart >= 1.5).slice(0, -3)
const small = voice(nl.filter((c) => c.voice?.endsWith('small fish')))
const big = voice(nl.filter((c) => c.voice?.endsWith('big fish')))
const allison = voice(realSpeechFixtures('real-en'))
// Each with its reference turns to the clips' 40 dB speech ends (the Dutch studio's reverb
// included) and to where each speaker stops (30 dB, `turnEnds: 'speaker'`).
const convs = [
  ['small fish + big fish', { small, big }],
  ['Allison + small fish + big fish', { allison, small, big }],
].map(([name, voices]) => [
  name,
  {
    ...realConversation(voices, { seed: 1, turns: 12 }),
    speakerTurns: realConversation(voices, { seed: 1, turns: 12, turnEnds: 'speaker' }).turns,
  },
])

const server = createServer({ model: args.model, port: 0, logger: pino({ level: 'silent' }) })
await server.listen()
let peakRss = 0
const sample = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 100)

/** Streams `audio` at `speed` × real time; resolves with the finals and each one's latency. */
async function stream(audio, diarize) {
  const url = `${server.url.replace(/^http/, 'ws')}/ws/transcribe/prompt${diarize ? '?diarize=true' : ''}`
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const finals = []
  const latencies = []
  let started = 0
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString())
    if (m.type !== 'final') return
    finals.push(m)
    const sentAt = started + (Math.min(m.audio_end, audio.length / 16_000) * 1000) / speed
    latencies.push((performance.now() - sentAt) / 1000)
  })
  const closed = new Promise((resolve) => ws.once('close', resolve))
  const frame = 320
  started = performance.now()
  for (let offset = 0; offset < audio.length; offset += frame) {
    ws.send(encodePcm16le(audio.subarray(offset, offset + frame)))
    const wait = started + ((offset + frame) / 16_000) * (1000 / speed) - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  return { finals, latencies }
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
}
const rows = []
for (const [name, conv] of convs) {
  const plain = await stream(conv.audio, false)
  const labelled = await stream(conv.audio, true)
  const segments = labelled.finals.flatMap((f) => f.segments)
  const hyp = segments.map((s) => ({ speaker: s.speaker ?? '?', start: s.start, end: s.end }))
  const der = diarizationErrorRate(conv.turns, hyp)
  const bySpeaker = diarizationErrorRate(conv.speakerTurns, hyp)
  rows.push({
    set: name,
    audioSeconds: conv.audio.length / 16_000,
    speakers: new Set(conv.turns.map((t) => t.speaker)).size,
    found: new Set(segments.map((s) => s.speaker)).size,
    der: der.der,
    derSpeakerEnds: bySpeaker.der,
    confusion: der.confusion,
    finals: labelled.finals.length,
    p50Off: quantile(plain.latencies, 0.5),
    p90Off: quantile(plain.latencies, 0.9),
    p50On: quantile(labelled.latencies, 0.5),
    p90On: quantile(labelled.latencies, 0.9),
  })
}
clearInterval(sample)
await server.close()

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
const command = `node bench/diarization-live.mjs --speed ${args.speed} --model ${args.model}`
const ms = (s) => `${(s * 1000).toFixed(0)} ms`
const md = [
  '# Live diarization through the server',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${machine} · \`${command}\` · whisper.cpp ${args.model}, strategy prompt, WebRTC VAD; each conversation streamed at ${args.speed}× real time without, then with \`diarize=true\`. Final latency: the final's arrival after its audio end was sent. Peak RSS of the process (server, model and embedding worker): ${(peakRss / 1048576).toFixed(0)} MB.`,
  '',
  "Live DER: the finals' labelled segments as delivered, 0.25 s collar, against the turns to where each speaker stops (30 dB below the clip's peak) and [in brackets] to the clips' 40 dB speech ends, which count the Dutch studio's reverb as speech.",
  '',
  '| voices | audio | finals | speakers found | live DER (0.25 s collar) | confusion | final p50 off → on (cost) | final p90 off → on |',
  '|---|---:|---:|---:|---:|---:|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.set} | ${r.audioSeconds.toFixed(0)} s | ${r.finals} | ${r.found} of ${r.speakers} | ${(r.derSpeakerEnds * 100).toFixed(1)} % [${(r.der * 100).toFixed(1)} %] | ${r.confusion.toFixed(2)} s | ${ms(r.p50Off)} → ${ms(r.p50On)} (${ms(r.p50On - r.p50Off)}) | ${ms(r.p90Off)} → ${ms(r.p90On)} |`,
  ),
]
mkdirSync(args.out, { recursive: true })
writeFileSync(
  `${args.out}/latest.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine, command, peakRss, rows }, null, 2)}\n`,
)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
