#!/usr/bin/env node
// The drop-in protocols against the native one, side by side in one run:
// `node bench/protocols.mjs [--rounds 1] [--streams stream-30s,stream-2min]`.
// One server (whisper.cpp tiny.en, over TLS with a throwaway CA), the real English streams
// sent at real time, the same bytes (PCM16 at OpenAI's 24 kHz) by three apps, one after another and interleaved per round: this server's
// own protocol (`ws`, `prompt`, no revisions: what the drop-ins serve), the official `openai`
// client (7.x, GA, intent=transcription) and the official `@deepgram/sdk` (5.x). Each final's
// latency is its arrival at the app after the end of its utterance's audio as the protocol
// reports it (native `audio_end`, OpenAI `speech_stopped.audio_end_ms`, Deepgram
// `start + duration`). The VAD ends utterances alike in all three: the WebRTC VAD's own 200 ms
// of silence (OpenAI's `silence_duration_ms: 200`; Deepgram's default `endpointing`, raised to
// the VAD's), 200 ms of pre-roll.
// Writes bench/results/protocols/latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import {
  makeTestCertificates,
  rawAudio,
  runClient,
} from '../packages/server/src/protocols/sdk-clients/support.mjs'
import { SR } from './lib/corpus.mjs'
import { spawnServer } from './lib/server-process.mjs'
import { quantile } from './lib/stats.mjs'

const HELP = `Usage: node bench/protocols.mjs [options]

  --rounds <n>        times each app streams each stream (default 1)
  --streams <list>    real English streams (default stream-30s,stream-2min)
  --speed <x>         times real time (default 1: latency is measured at real time)
  --protocols <list>  native,openai-realtime,deepgram (default: all; native always runs)
  --server-args=<s>   more server flags, e.g. --server-args="--final-window full"
  --out <dir>         where latest.json and latest.md go (bench/results/protocols)
  --help              this text
`
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    streams: { type: 'string', default: 'stream-30s,stream-2min' },
    speed: { type: 'string', default: '1' },
    protocols: { type: 'string', default: 'native,openai-realtime,deepgram' },
    'server-args': { type: 'string', default: '' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const OUT = args.out ? `${args.out}/` : fileURLToPath(new URL('./results/protocols/', import.meta.url))
const speed = Number(args.speed)
const names = args.streams.split(',')
const streams = realSpeechFixtures('real-en-long', (f) => names.includes(f.name))
const tls = makeTestCertificates()
const TOKEN = 'bench-token'
/** OpenAI's PCM16 rate: all three apps send the same bytes, which the server resamples alike. */
const RATE = 24_000
const files = Object.fromEntries(
  streams.map((s) => {
    const file = (ext) => join(tls.dir, `${s.name}.${ext}`)
    writeFileSync(file('24k'), rawAudio(s.audio, 'pcm16', 24_000))
    return [s.name, { pcm24k: file('24k') }]
  }),
)

const server = await spawnServer([
  '--model',
  'tiny.en',
  '--tls-cert',
  tls.cert,
  '--tls-key',
  tls.key,
  '--token',
  TOKEN,
  ...args['server-args'].split(/\s+/).filter(Boolean),
])
const base = server.http
const env = { NODE_EXTRA_CA_CERTS: tls.ca }

/** Each app: runs a stream, returns its finals as { text, audioEnd (s), arrival (ms) }. */
const APPS = {
  native: async (f) => {
    const query = `revisions=false&sample_rate=${RATE}&token=${TOKEN}`
    const url = `${base.replace(/^http/, 'ws')}/ws/transcribe/prompt?${query}`
    const { events } = await runClient('native', { url, audio: f.pcm24k, sampleRate: RATE, speed }, env)
    return events
      .filter((e) => e.type === 'final')
      .map((e) => ({ text: e.text, audioEnd: e.audio_end, arrival: e.at_ms }))
  },
  'openai-realtime': async (f) => {
    const { events } = await runClient(
      'openai-realtime',
      {
        module: 'openai',
        shape: 'ga-intent',
        baseURL: `${base}/v1`,
        apiKey: TOKEN,
        audio: f.pcm24k,
        speed,
        turnDetection: { type: 'server_vad', silence_duration_ms: 200, prefix_padding_ms: 200 },
      },
      env,
    )
    const stopped = new Map(
      events
        .filter((e) => e.type === 'input_audio_buffer.speech_stopped')
        .map((e) => [e.item_id, e.audio_end_ms / 1000]),
    )
    return events
      .filter((e) => e.type === 'conversation.item.input_audio_transcription.completed')
      .map((e) => ({ text: e.transcript, audioEnd: stopped.get(e.item_id), arrival: e.at_ms }))
  },
  deepgram: async (f) => {
    const { events } = await runClient(
      'deepgram-live',
      {
        module: '@deepgram/sdk',
        version: 5,
        url: base.replace(/^http/, 'ws'),
        apiKey: TOKEN,
        audio: f.pcm24k,
        speed,
        query: { encoding: 'linear16', sample_rate: RATE },
      },
      env,
    )
    return events
      .filter((e) => e.type === 'Results' && e.is_final)
      .map((e) => ({
        text: e.channel.alternatives[0].transcript,
        audioEnd: e.start + e.duration,
        arrival: e.at_ms,
      }))
  },
}

for (const name of Object.keys(APPS))
  if (name !== 'native' && !args.protocols.split(',').includes(name)) delete APPS[name]
const results = Object.fromEntries(
  Object.keys(APPS).map((k) => [k, { latencies: [], pairs: [], finals: 0, each: [] }]),
)
const cpuBefore = server.stats().cpuSeconds
for (let round = 0; round < Number(args.rounds); round++) {
  for (const s of streams) {
    for (const [name, app] of Object.entries(APPS)) {
      const finals = await app(files[s.name])
      const r = results[name]
      r.finals += finals.length
      for (const f of finals) {
        const latency = f.audioEnd === undefined ? null : (f.arrival - (f.audioEnd * 1000) / speed) / 1000
        if (latency !== null) r.latencies.push(latency)
        r.each.push({ stream: s.name, round, audioEndS: f.audioEnd, latencyS: latency, text: f.text })
      }
      r.pairs.push({
        reference: s.text,
        hypothesis: finals
          .map((f) => f.text)
          .filter(Boolean)
          .join(' '),
      })
      console.error(`${name} ${s.name}: ${finals.length} finals`)
    }
  }
}
const cpuSeconds = server.stats().cpuSeconds - cpuBefore
await server.stop()

const round2 = (x) => Number(x.toFixed(3))
const native = results.native
const nativeP50 = quantile(native.latencies, 0.5)
const rows = Object.entries(results).map(([name, r]) => {
  const p50 = quantile(r.latencies, 0.5)
  return {
    protocol: name,
    finals: r.finals,
    finalP50S: round2(p50),
    finalP95S: round2(quantile(r.latencies, 0.95)),
    p50VsNative: round2(p50 / nativeP50),
    werPct: Number((corpusWordErrorRate(r.pairs) * 100).toFixed(1)),
  }
})
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
const command = `node bench/protocols.mjs ${process.argv.slice(2).join(' ')}`.trim()
mkdirSync(OUT, { recursive: true })
writeFileSync(
  `${OUT}latest.json`,
  `${JSON.stringify(
    {
      machine,
      command,
      streams: names,
      speed,
      cpuSeconds,
      rows,
      finals: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.each])),
    },
    null,
    2,
  )}\n`,
)
const md = [
  '# Drop-in protocols against the native one',
  '',
  `\`${command}\` on ${machine}. whisper.cpp tiny.en over TLS; real English streams (${names.join(', ')}) at ${speed}× real time, ${args.rounds} round(s), the apps one after another, each sending the same bytes (PCM16 at 24 kHz, OpenAI's format) with each protocol's defaults otherwise: partials every 500 ms on the native protocol, none on OpenAI's, Deepgram's interim results off. Latency: a final's arrival at the app after the end of its utterance's audio.`,
  '',
  '| protocol (client) | finals | final p50 (s) | final p95 (s) | p50 / native | WER (%) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${{ native: 'native (ws)', 'openai-realtime': 'OpenAI Realtime (openai 7)', deepgram: 'Deepgram live (@deepgram/sdk 5)' }[r.protocol]} | ${r.finals} | ${r.finalP50S} | ${r.finalP95S} | ${r.p50VsNative} | ${r.werPct} |`,
  ),
]
const audioSeconds =
  streams.reduce((a, s) => a + s.audio.length / SR, 0) * Number(args.rounds) * Object.keys(APPS).length
md.push('', `Server CPU (all apps): ${round2(cpuSeconds / audioSeconds)} s per audio second.`)
writeFileSync(`${OUT}latest.md`, `${md.join('\n')}\n`)
process.stdout.write(`${md.join('\n')}\n`)
