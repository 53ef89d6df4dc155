#!/usr/bin/env node
// The soak and abuse run (issue: hardening): `node bench/soak.mjs [--minutes 20] [--live 3]`.
// Starts ws-server on its defaults (whisper.cpp tiny.en, revisions on) and runs the mix of
// bench/lib/soak.mjs against it; writes bench/results/soak/latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runSoak, startDefaultServer } from './lib/soak.mjs'
import { quantile } from './lib/stats.mjs'

const HELP = `Usage: node bench/soak.mjs [options]

  --minutes <n>     how long the mix runs (20)
  --live <n>        real-time live sessions beside the abusers (3)
  --squatters <n>   keepalive-only sockets held the whole run (6)
  --out <dir>       where latest.json and latest.md go (bench/results/soak)
  --help            this text
`
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    live: { type: 'string', default: '3' },
    squatters: { type: 'string', default: '6' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const OUT = args.out ? `${args.out}/` : fileURLToPath(new URL('./results/soak/', import.meta.url))
const minutes = Number(args.minutes)
const server = await startDefaultServer()
console.error(`soak: ${minutes} min, ${args.live} live sessions, server pid ${server.pid}`)
const report = await runSoak(server, {
  seconds: minutes * 60,
  live: Number(args.live),
  squatters: Number(args.squatters),
  log: (line) => console.error(line),
})
await server.stop()

const r = (x, d = 0) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(d))
const msAt = (xs, q) => (xs.length === 0 ? undefined : quantile(xs, q) * 1000)
const rows = []
for (let m = 0; m < Math.ceil(minutes); m++) {
  const lat = report.latencies.filter((l) => l.minute === m).map((l) => l.seconds)
  const s = report.samples.filter((x) => x.t >= m * 60 && x.t < (m + 1) * 60)
  const last = s.at(-1)
  rows.push(
    `| ${m + 1} | ${lat.length} | ${r(msAt(lat, 0.5))} | ${r(msAt(lat, 0.95))} | ${r(last?.rssMb)} | ${last?.fds ?? '–'} | ${last?.sessions ?? '–'} | ${last?.connections ?? '–'} |`,
  )
}
const all = report.latencies.map((l) => l.seconds)
const md = `# Soak and abuse run

\`node bench/soak.mjs --minutes ${minutes} --live ${args.live}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; the server on its defaults (whisper.cpp tiny.en, \`prompt\`, revisions on, 4 session slots).

Beside ${args.live} real-time live sessions: clients vanishing mid-stream at 3× (${report.counts.vanished}), REST uploads (statuses ${JSON.stringify(report.counts.rest)}), a garbage flooder that never reads (closed with ${[...new Set(report.counts.flooderClosed)].join(', ')}), a 50× audio flooder (closed with ${[...new Set(report.counts.fastClosed)].join(', ')}), ${args.squatters} keepalive squatters (${report.counts.squattersOpenAtEnd} open at the end), silent sockets (closed with ${[...new Set(report.counts.silentClosed)].join(', ')}), malformed targets (${JSON.stringify(report.counts.malformed)}).

Live finals: ${all.length}, p50 ${r(msAt(all, 0.5))} ms, p95 ${r(msAt(all, 0.95))} ms; live sessions ${report.counts.liveSessions}, refused ${report.counts.liveRefused}; lost: ${report.lost.length}.
After everyone left: sessions ${report.after.sessions}, connections ${report.after.connections}, closing ${report.after.closing}; refusals by reason ${JSON.stringify(report.after.refusals)}.

| minute | live finals | p50 ms | p95 ms | RSS MB | fds | sessions | connections |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`
mkdirSync(OUT, { recursive: true })
writeFileSync(`${OUT}latest.json`, `${JSON.stringify(report, null, 1)}\n`)
writeFileSync(`${OUT}latest.md`, md)
process.stdout.write(md)
if (report.lost.length > 0 || report.after.sessions !== 0 || report.after.connections !== 0)
  process.exitCode = 1
