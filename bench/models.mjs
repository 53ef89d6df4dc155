#!/usr/bin/env node
// The model table: `node bench/models.mjs [--models tiny.en,tiny.en-q5_1,base,base-q5_1]`.
// Per whisper.cpp model (float16 and quantized, by name: see @ws/models): offline WER on the
// real corpora (English telephone prompts; Spanish and Dutch with multilingual models) and on
// espeak sentences, whole clips as REST decodes them; then one real-time session of the real
// English 2-minute stream through the server (`prompt`, revisions off): final latency p50/p95
// (a final's arrival after its utterance's audio), first partial (its arrival after the
// utterance's start), CPU-s per audio-s and peak memory of the server process.
// Writes bench/results/models/latest.{json,md}. Nothing else should run meanwhile.
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures, realSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { rawAudio, runClient } from '../packages/server/src/protocols/sdk-clients/support.mjs'
import { FIXTURES, harvardFixtures } from './lib/corpus.mjs'
import { spawnServer } from './lib/server-process.mjs'
import { quantile } from './lib/stats.mjs'

const HELP = `Usage: node bench/models.mjs [options]

  --models <list>   whisper.cpp models (default tiny.en,tiny.en-q5_1,base,base-q8_0,base-q5_1)
  --clips <n>       clips per corpus for the offline WER (default 30)
  --stream <name>   the real English stream of the real-time session (default stream-2min)
  --out <dir>       where latest.json and latest.md go (bench/results/models)
  --help            this text
`
const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny.en,tiny.en-q5_1,base,base-q8_0,base-q5_1' },
    clips: { type: 'string', default: '30' },
    stream: { type: 'string', default: 'stream-2min' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const OUT = args.out ? `${args.out}/` : fileURLToPath(new URL('./results/models/', import.meta.url))
const SR = 16_000
const n = Number(args.clips)
const CORPORA = [
  ['real English', realSpeechFixtures('real-en').slice(0, n), 'en', false],
  ['real Spanish', realSpeechFixtures('real-es').slice(0, n), 'es', true],
  ['real Dutch', realSpeechFixtures('real-nl').slice(0, n), 'nl', true],
  ['espeak', [...harvardFixtures(), ...loadSpeechFixtures(`${FIXTURES}wer`)].slice(0, n), 'en', false],
]
const stream = realSpeechFixtures('real-en-long', (f) => f.name === args.stream)[0]
const pcm = join(tmpdir(), `ws-models-bench-${process.pid}.raw`)
writeFileSync(pcm, rawAudio(stream.audio, 'pcm16', SR))
const pct = (x) => Number((x * 100).toFixed(1))
const ms = (s) => Math.round(s * 1000)

const rows = []
for (const model of args.models.split(',')) {
  const resolved = await resolveGgmlModel(model, { offline: true })
  const multilingual = resolved.info.hparams.nVocab >= 51865
  const row = { model, sizeMb: Number((statSync(resolved.file).size / 1e6).toFixed(1)), wer: {} }
  // Offline: whole clips, as REST decodes them (full window, greedy).
  const backend = new WhisperCppBackend({ beamSize: 1 })
  await backend.loadModel(model)
  for (const [label, clips, language, foreign] of CORPORA) {
    if (foreign && !multilingual) continue
    const pairs = []
    for (const c of clips) {
      const r = await backend.transcribe(c.audio, SR, multilingual ? { language } : {})
      pairs.push({ reference: c.text, hypothesis: r.text })
    }
    row.wer[label] = pct(corpusWordErrorRate(pairs, { language, foldDiacritics: true }))
  }
  await backend.close()
  // One real-time session through the server.
  const server = await spawnServer(['--model', model])
  const before = server.stats().cpuSeconds
  const url = `${server.url}/ws/transcribe/prompt?revisions=false`
  const { events } = await runClient('native', { url, audio: pcm, speed: 1 })
  const cpu = server.stats().cpuSeconds - before
  const { serverRssMb } = server.stats()
  await server.stop()
  const finals = events.filter((e) => e.type === 'final')
  const latency = finals.map((e) => e.at_ms / 1000 - e.audio_end)
  const first = new Map()
  for (const e of events)
    if (e.type === 'partial' && !first.has(e.utterance_id))
      first.set(e.utterance_id, e.at_ms / 1000 - e.audio_start)
  row.realTime = {
    finals: finals.length,
    finalP50Ms: ms(quantile(latency, 0.5)),
    finalP95Ms: ms(quantile(latency, 0.95)),
    firstPartialP50Ms: first.size > 0 ? ms(quantile([...first.values()], 0.5)) : null,
    cpuPerAudioS: Number((cpu / stream.durationSeconds).toFixed(2)),
    peakRssMb: Math.round(serverRssMb),
    finalsWer: pct(
      corpusWordErrorRate([{ reference: stream.text, hypothesis: finals.map((e) => e.text).join(' ') }]),
    ),
  }
  rows.push(row)
  console.error(`${model}: ${JSON.stringify(row)}`)
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
const command = `node bench/models.mjs ${process.argv.slice(2).join(' ')}`.trim()
mkdirSync(OUT, { recursive: true })
writeFileSync(
  `${OUT}latest.json`,
  `${JSON.stringify({ machine, command, clips: n, stream: args.stream, rows }, null, 2)}\n`,
)
const labels = CORPORA.map(([label]) => label)
const md = [
  '# Models',
  '',
  `\`${command}\` on ${machine}. whisper.cpp, greedy. Offline WER: ${n} whole clips per corpus (Spanish and Dutch on multilingual models). Real time: the real English ${args.stream} (${stream.durationSeconds.toFixed(0)} s) through the server at 1×, \`prompt\`, revisions off.`,
  '',
  `| model | size (MB) | ${labels.map((l) => `WER ${l} (%)`).join(' | ')} | final p50 (ms) | p95 (ms) | first partial p50 (ms) | CPU-s / audio-s | peak RSS (MB) | finals WER (%) |`,
  `| --- | ---: | ${labels.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.sizeMb} | ${labels.map((l) => r.wer[l] ?? '–').join(' | ')} | ${r.realTime.finalP50Ms} | ${r.realTime.finalP95Ms} | ${r.realTime.firstPartialP50Ms ?? '–'} | ${r.realTime.cpuPerAudioS} | ${r.realTime.peakRssMb} | ${r.realTime.finalsWer} |`,
  ),
]
writeFileSync(`${OUT}latest.md`, `${md.join('\n')}\n`)
process.stdout.write(`${md.join('\n')}\n`)
