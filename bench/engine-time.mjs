// Where the engine's time goes with live sessions on real speech, and what a final waits.
//
//   node bench/engine-time.mjs [--sessions 1,2,3,4] [--stagger-ms 1300] [--stream 2min]
//                              [--backend whispercpp] [--label now] [--server-cli <path>]
//                              [--server-args="--model base"]
//
// N real-time clients stream the real English stream (people reading telephone prompts) into
// the default server (tiny.en, `prompt`, revisions on; admission relaxed so nobody is
// refused), started `--stagger-ms` apart as users arrive. Per N: the finals' latency from
// the end of each utterance's speech (the VAD's hangover included) to its final, p50 / p95 /
// max; the finals' and revised text's WER over all sessions; and from the server's /metrics,
// by kind of request (final, partial, revision): engine seconds per audio second, calls, mean
// wait for a turn, turns taken back for a final, and CPU seconds per audio second (`ahead`: finals
// computed before the utterance ended; ‘–’ in runs made before they were booked apart). `--label`
// names the run; runs of several labels (e.g. `--server-cli` of an earlier commit's build,
// then this one) are kept side by side in bench/results/engine-time/latest.{json,md}.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate } from '@ws/core'
import { realtimeClient } from './lib/clients.mjs'
import { realStreams } from './lib/corpus.mjs'
import { SERVER_CLI, startServer } from './lib/server-process.mjs'
import { quantile, round } from './lib/stats.mjs'

const HELP = `Usage: node bench/engine-time.mjs [options]
  --sessions <list>     numbers of live sessions (default 1,2,3,4)
  --stagger-ms <ms>     between the sessions' starts (default 1300)
  --stream <name>       30s or 2min, the real English stream (default 2min)
  --backend <name>      whispercpp or faster (default whispercpp)
  --label <name>        this run's name in the table (default now)
  --server-cli <path>   the server to run (default this checkout's packages/server/dist/cli.js)
  --server-args=<args>  more server options, space-separated (e.g. --server-args="--model base")
  --out <dir>           default bench/results/engine-time
  -h, --help`

const { values: a } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,2,3,4' },
    'stagger-ms': { type: 'string', default: '1300' },
    stream: { type: 'string', default: '2min' },
    backend: { type: 'string', default: 'whispercpp' },
    label: { type: 'string', default: 'now' },
    'server-cli': { type: 'string', default: SERVER_CLI },
    'server-args': { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/engine-time' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (a.help) {
  console.log(HELP)
  process.exit(0)
}
const KINDS = ['final', 'ahead', 'partial', 'revision']
const stream = realStreams('real-en-long').find((s) => s.name.includes(a.stream))
if (!stream) throw new Error(`no real English stream named ${a.stream}`)
const audioS = stream.audio.length / 16_000

/** The ws_inference_* counters by kind from the server's /metrics. */
async function inference(http) {
  const text = await (await fetch(`${http}/metrics`)).text()
  const out = {}
  for (const m of text.matchAll(/^ws_inference_(\w+?)_total\{kind="(\w+)"\} (\S+)$/gm)) {
    out[m[2]] ??= {}
    out[m[2]][m[1]] = Number(m[3])
  }
  // Request to result, the wait included (every build has it).
  for (const m of text.matchAll(/^ws_transcription_seconds_sum\{kind="(\w+)"\} (\S+)$/gm)) {
    out[m[1]] ??= {}
    out[m[1]].result_seconds = Number(m[2])
  }
  return out
}

async function run(n) {
  const extra = a['server-args'].split(' ').filter(Boolean)
  const server = await startServer(a.backend, extra, { cli: a['server-cli'] })
  try {
    const before = await inference(server.http)
    const cpu0 = server.stats().cpuSeconds
    const clients = Array.from({ length: n }, async (_, k) => {
      await new Promise((r) => setTimeout(r, k * Number(a['stagger-ms'])))
      return realtimeClient(server.url, 'prompt', stream.audio, stream)
    })
    const results = await Promise.all(clients)
    const after = await inference(server.http)
    const cpu = server.stats().cpuSeconds - cpu0
    const latencies = results.flatMap((r) => r.per.map((p) => p.finalLatency).filter((x) => x !== null))
    const sent = n * audioS
    const kind = {}
    for (const k of KINDS) {
      const d = (f) => (after[k]?.[f] ?? 0) - (before[k]?.[f] ?? 0)
      const calls = d('calls')
      kind[k] = {
        enginePerAudioS: round(d('busy_seconds') / sent, 3),
        calls,
        meanWaitMs: calls ? Math.round((d('wait_seconds') / calls) * 1000) : 0,
        preempted: d('preempted'),
        cpuPerAudioS: round(d('cpu_seconds') / sent, 3),
        resultPerAudioS: round(d('result_seconds') / sent, 3),
      }
    }
    const pairs = (pick) => results.map((r) => ({ reference: stream.reference, hypothesis: pick(r) }))
    return {
      sessions: n,
      finals: latencies.length,
      finalP50Ms: Math.round(quantile(latencies, 0.5) * 1000),
      finalP95Ms: Math.round(quantile(latencies, 0.95) * 1000),
      finalMaxMs: Math.round(Math.max(...latencies) * 1000),
      finalsWer: round(corpusWordErrorRate(pairs((r) => r.text)) * 100, 1),
      revisedWer: round(corpusWordErrorRate(pairs((r) => r.revised)) * 100, 1),
      serverCpuPerAudioS: round(cpu / sent, 3),
      kind,
    }
  } finally {
    await server.stop()
  }
}

const rows = []
for (const n of a.sessions.split(',').map(Number)) {
  const row = await run(n)
  console.error(`${a.label}, ${n} session(s): ${JSON.stringify(row)}`)
  rows.push(row)
}

mkdirSync(a.out, { recursive: true })
const file = `${a.out}/latest.json`
const saved = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { runs: {} }
saved.runs[a.label] = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  // Another build's server is named by the label, not by its path on this machine.
  command: `node bench/engine-time.mjs ${process.argv.slice(2).join(' ')}`
    .replace(a['server-cli'], '<another build>/packages/server/dist/cli.js')
    .trim(),
  stream: `${stream.name} (${round(audioS, 1)} s)`,
  backend: a.backend,
  rows,
}
writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`)

const lines = [
  '# Where the engine’s time goes: live sessions on real speech',
  '',
  'Final latency from the end of each utterance’s speech (the VAD’s hangover included) to its final; engine and CPU seconds per second of audio sent, by kind of request, from the server’s /metrics; WER of all sessions’ finals and revised text.',
  '',
  '| run | sessions | final p50 / p95 / max (ms) | WER finals / revised (%) | engine s / audio s: final / ahead / partial / revision | calls: final / ahead / partial / revision | mean wait (ms): final / ahead / partial / revision | taken back: partial / revision | CPU s / audio s: final / ahead / partial / revision | request to result s / audio s: final / ahead / partial / revision | server CPU s / audio s |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
]
for (const [label, r] of Object.entries(saved.runs)) {
  for (const row of r.rows) {
    const k = (f) => KINDS.map((x) => row.kind[x]?.[f] ?? '–').join(' / ')
    lines.push(
      `| ${label} | ${row.sessions} | ${row.finalP50Ms} / ${row.finalP95Ms} / ${row.finalMaxMs} | ${row.finalsWer} / ${row.revisedWer} | ${k('enginePerAudioS')} | ${k('calls')} | ${k('meanWaitMs')} | ${row.kind.partial.preempted} / ${row.kind.revision.preempted} | ${k('cpuPerAudioS')} | ${k('resultPerAudioS')} | ${row.serverCpuPerAudioS} |`,
    )
  }
}
lines.push('')
for (const [label, r] of Object.entries(saved.runs)) {
  lines.push(`- ${label}: ${r.date}, ${r.machine}, ${r.backend}, ${r.stream}, \`${r.command}\``)
}
lines.push(
  '',
  'A build before the engine kept books by kind reports no engine, wait or CPU figures (0); every build reports request to result (the wait included). faster-whisper decodes in its worker process: its CPU by kind counts the server’s own threads only (near 0); the server CPU column includes the worker.',
  '',
)
writeFileSync(`${a.out}/latest.md`, lines.join('\n'))
console.log(lines.join('\n'))
