#!/usr/bin/env node
// The model table: `node bench/models.mjs [--models tiny.en,base-q8_0,faster:base:int8]`.
// Per model — whisper.cpp float16 and quantized by name (see @ws/models), faster-whisper as
// `faster:<model>:<compute type>` — offline WER on the real corpora (English telephone prompts;
// Spanish and Dutch with multilingual models) and on espeak sentences, whole clips as REST
// decodes them; then through the server: the start-up speed check's real-time factor, one
// real-time session of the real English 2-minute stream (`prompt`, revisions off): final
// latency p50/p95 (a final's arrival after its utterance's audio), first partial (its arrival
// after the utterance's start), CPU-s per audio-s and peak memory (server and worker); and
// sessions held: N sessions of the real English 30 s stream at once, held when every one is
// admitted, none gets an error and the finals' latency p95 stays under 1 s.
// Writes bench/results/models/latest.{json,md}. Nothing else should run meanwhile.
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FasterWhisperBackend } from '@ws/backend-faster'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures, realSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { rawAudio, runClient } from '../packages/server/src/protocols/sdk-clients/support.mjs'
import { FIXTURES, harvardFixtures } from './lib/corpus.mjs'
import { spawnServer } from './lib/server-process.mjs'
import { quantile } from './lib/stats.mjs'

const DEFAULT_MODELS = [
  'tiny.en',
  'tiny.en-q5_1',
  'base',
  'base-q8_0',
  'base-q5_1',
  'faster:tiny.en:int8',
  'faster:tiny.en:float32',
  'faster:base:int8',
  'faster:base:float32',
]
const HELP = `Usage: node bench/models.mjs [options]

  --models <list>   whisper.cpp models by name, faster-whisper as faster:<model>:<compute type>
                    (default ${DEFAULT_MODELS.join(',')})
  --clips <n>       clips per corpus for the offline WER (default 30)
  --stream <name>   the real English stream of the real-time session (default stream-2min)
  --max-sessions <n> largest N of the sessions-held search, 1 = none (default 4)
  --final-windows <list>  the server's --final-window per model, each its own row
                    (auto,full,fitted; default: the server's default only)
  --out <dir>       where latest.json and latest.md go (bench/results/models)
  --help            this text
`
const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: DEFAULT_MODELS.join(',') },
    'max-sessions': { type: 'string', default: '4' },
    'final-windows': { type: 'string', default: '' },
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
const short = realSpeechFixtures('real-en-long', (f) => f.durationSeconds < 60)[0]
const pcm = join(tmpdir(), `ws-models-bench-${process.pid}.raw`)
const shortPcm = join(tmpdir(), `ws-models-bench-short-${process.pid}.raw`)
writeFileSync(pcm, rawAudio(stream.audio, 'pcm16', SR))
writeFileSync(shortPcm, rawAudio(short.audio, 'pcm16', SR))
const pct = (x) => Number((x * 100).toFixed(1))
const ms = (s) => Math.round(s * 1000)
const maxSessions = Number(args['max-sessions'])
/** The finals' windows to run the server at ('' is its default). */
const WINDOWS = args['final-windows'] ? args['final-windows'].split(',') : ['']

/** `base-q8_0` (whisper.cpp) or `faster:base:int8`: the engine, its model and the server flags. */
async function engineOf(spec) {
  const [kind, model, computeType] = spec.split(':')
  if (kind === 'faster') {
    const backend = new FasterWhisperBackend({ beamSize: 1, computeType, offline: true })
    await backend.loadModel(model)
    return {
      backend,
      engine: `faster-whisper ${computeType}`,
      model,
      multilingual: !model.endsWith('.en'),
      sizeMb: null,
      flags: ['--backend', 'faster', '--model', model, '--compute-type', computeType],
    }
  }
  const resolved = await resolveGgmlModel(spec, { offline: true })
  const backend = new WhisperCppBackend({ beamSize: 1 })
  await backend.loadModel(spec)
  return {
    backend,
    engine: 'whisper.cpp',
    model: spec,
    multilingual: resolved.info.hparams.nVocab >= 51865,
    sizeMb: Number((statSync(resolved.file).size / 1e6).toFixed(1)),
    flags: ['--model', spec],
  }
}

/** A final's lateness after the end of its utterance's audio, in s, per client run. */
const finalsOf = (events) => events.filter((e) => e.type === 'final')
const latencies = (events) => finalsOf(events).map((e) => e.at_ms / 1000 - e.audio_end)

/** N sessions of the short stream at once through a running server. */
async function sessionsAt(server, n) {
  const url = `${server.url}/ws/transcribe/prompt?revisions=false`
  const runs = await Promise.all(
    Array.from({ length: n }, () => runClient('native', { url, audio: shortPcm, speed: 1 })),
  )
  const all = runs.flatMap((r) => latencies(r.events))
  const errors = runs.flatMap((r) => r.events.filter((e) => e.type === 'error').map((e) => e.code))
  const wers = runs.map((r) =>
    corpusWordErrorRate([
      {
        reference: short.text,
        hypothesis: finalsOf(r.events)
          .map((e) => e.text)
          .join(' '),
      },
    ]),
  )
  const p95 = quantile(all, 0.95)
  return {
    sessions: n,
    finalP95Ms: p95 === null ? null : ms(p95),
    errors,
    worstWer: pct(Math.max(...wers)),
    ok: errors.length === 0 && p95 !== null && p95 < 1,
  }
}

const rows = []
for (const spec of args.models.split(',')) {
  const { backend, engine, multilingual, sizeMb, flags } = await engineOf(spec)
  const wer = {}
  // Offline: whole clips, as REST decodes them (full window, greedy).
  for (const [label, clips, language, foreign] of CORPORA) {
    if (foreign && !multilingual) continue
    const pairs = []
    for (const c of clips) {
      const r = await backend.transcribe(c.audio, SR, multilingual ? { language } : {})
      pairs.push({ reference: c.text, hypothesis: r.text })
    }
    wer[label] = pct(corpusWordErrorRate(pairs, { language, foldDiacritics: true }))
  }
  await backend.close()
  for (const window of WINDOWS)
    rows.push(await throughServer({ model: spec, engine, sizeMb, wer: { ...wer } }, flags, window))
}

/** The server part of a row: one real-time session, then sessions held. */
async function throughServer(row, flags, window) {
  if (window) row.finalWindow = window
  // One real-time session through the server.
  const windowFlags = window ? ['--final-window', window] : []
  const server = await spawnServer([
    ...flags,
    ...windowFlags,
    '--max-clients',
    String(Math.max(4, maxSessions)),
  ])
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  row.startRealTimeFactor = Number(/^ws_model_realtime_factor (\S+)/m.exec(metrics)?.[1] ?? Number.NaN)
  const before = server.stats().cpuSeconds
  const url = `${server.url}/ws/transcribe/prompt?revisions=false`
  const { events } = await runClient('native', { url, audio: pcm, speed: 1 })
  const cpu = server.stats().cpuSeconds - before
  const { serverRssMb, workerRssMb } = server.stats()
  const finals = finalsOf(events)
  const latency = latencies(events)
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
    peakRssMb: Math.round(serverRssMb + workerRssMb),
    finalsWer: pct(
      corpusWordErrorRate([{ reference: stream.text, hypothesis: finals.map((e) => e.text).join(' ') }]),
    ),
  }
  // Sessions held: N at once (one more N after the first miss: a p95 of few finals is noisy).
  row.held = row.realTime.finalP95Ms !== null && row.realTime.finalP95Ms < 1000 ? 1 : 0
  row.capacity = []
  for (let n = 2; n <= maxSessions; n++) {
    const r = await sessionsAt(server, n)
    row.capacity.push(r)
    console.error(`${row.model} ${window} N=${n}: ${JSON.stringify(r)}`)
    if (r.ok && row.held === n - 1) row.held = n
    else if (n > row.held + 1) break
  }
  await server.stop()
  console.error(`${row.model} ${window}: ${JSON.stringify(row)}`)
  return row
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
const held = (r) => (r.held >= maxSessions && maxSessions > 1 ? `≥ ${r.held}` : String(r.held))
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
  `\`${command}\` on ${machine}. Greedy. Offline WER: ${n} whole clips per corpus (Spanish and Dutch on multilingual models). Real time: the real English ${args.stream} (${stream.durationSeconds.toFixed(0)} s) through the server at 1×, \`prompt\`, revisions off; peak RSS of the server and its worker. Start RTF: the server's start-up speed check (backend s per audio s of a live final of silence). Held: sessions of the real English ${short.name} (${short.durationSeconds.toFixed(0)} s) at once, all admitted, no error, finals p95 < 1 s (tried up to ${maxSessions}).`,
  '',
  `| model | engine | finals' window | size (MB) | ${labels.map((l) => `WER ${l} (%)`).join(' | ')} | start RTF | final p50 (ms) | p95 (ms) | first partial p50 (ms) | CPU-s / audio-s | peak RSS (MB) | finals WER (%) | sessions held |`,
  `| --- | --- | --- | ---: | ${labels.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...rows.map(
    (r) =>
      `| ${r.model.replace(/^faster:([^:]+):.*/, '$1')} | ${r.engine} | ${r.finalWindow ?? 'default'} | ${r.sizeMb ?? '–'} | ${labels.map((l) => r.wer[l] ?? '–').join(' | ')} | ${r.startRealTimeFactor.toFixed(3)} | ${r.realTime.finalP50Ms} | ${r.realTime.finalP95Ms} | ${r.realTime.firstPartialP50Ms ?? '–'} | ${r.realTime.cpuPerAudioS} | ${r.realTime.peakRssMb} | ${r.realTime.finalsWer} | ${held(r)} |`,
  ),
  '',
  "Sessions at once (the held search): finals p95 over all sessions, the worst session's finals WER, errors.",
  '',
  "| model | finals' window | sessions | finals p95 (ms) | worst finals WER (%) | errors |",
  '| --- | --- | ---: | ---: | ---: | --- |',
  ...rows.flatMap((r) =>
    r.capacity.map(
      (c) =>
        `| ${r.model} | ${r.finalWindow ?? 'default'} | ${c.sessions} | ${c.finalP95Ms ?? '–'} | ${c.worstWer} | ${c.errors.join(', ') || 'none'} |`,
    ),
  ),
]
writeFileSync(`${OUT}latest.md`, `${md.join('\n')}\n`)
process.stdout.write(`${md.join('\n')}\n`)
