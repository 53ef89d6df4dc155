// Scale-out on this machine, side by side in one run (part of `pnpm bench`):
//  1. The remote backend's cost: the ten Harvard sentences transcribed in process (whisper.cpp,
//     tiny.en, greedy) and through @ws/backend-openai against @ws/server's REST in a child
//     process (same engine and settings) on loopback, one call at a time; ratio of the medians.
//  2. Sessions held by one replica and by two behind HAProxy (deploy/haproxy/haproxy.cfg):
//     each replica pinned to one core of its own (taskset), as if each were a machine; N
//     real-time sessions of speech (20 ms frames); held = every session admitted, no error,
//     final latency p95 under 1 s after the end of speech.
//
//   node bench/scale.mjs [--out bench/results/scale] [--max-sessions 8]
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { OpenAiBackend } from '@ws/backend-openai'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { connect, streamAudio } from '@ws/client'
import { composeUtterances, freePort, loadSpeechFixtures, waitUntil } from '@ws/core/testing'
import { haproxyBinary, loopbackConfig } from './haproxy.mjs'

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: fileURLToPath(new URL('results/scale', import.meta.url)) },
    'max-sessions': { type: 'string', default: '8' },
  },
})
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_CLI = join(ROOT, 'packages/server/dist/cli.js')
const fixtures = loadSpeechFixtures(join(ROOT, 'fixtures/speech'), (f) => f.name.startsWith('harvard-'))
const ROUNDS = 3
const maxSessions = Number(args['max-sessions'])
const q = (xs, p) => (xs.length ? Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]) : null)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const waitReady = (url) => waitUntil(url, () => fetch(url).then((r) => r.ok))

/** A replica as deployed (the CLI), pinned to `cores` when given. */
async function replica({ cores, threads, extra = [] } = {}) {
  const port = await freePort()
  const argv = [SERVER_CLI, '--host', '127.0.0.1', '--port', String(port), '--no-demo', '--beam-size', '1']
  if (threads) argv.push('--threads', String(threads))
  argv.push(...extra)
  const child = cores
    ? spawn('taskset', ['-c', cores, process.execPath, ...argv], {
        stdio: 'ignore',
        env: { ...process.env, LOG_LEVEL: 'warn' },
      })
    : spawn(process.execPath, argv, { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } })
  const url = `http://127.0.0.1:${port}`
  await waitReady(`${url}/ready`)
  return {
    url,
    port,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r()
        child.once('exit', r)
        child.kill('SIGTERM')
      }),
  }
}

// ---- 1. remote / in process -------------------------------------------------------------

async function measure(backend) {
  await backend.transcribe(fixtures[0].audio, 16_000) // warm
  const ms = []
  for (let r = 0; r < ROUNDS; r++) {
    for (const f of fixtures) {
      const t = performance.now()
      await backend.transcribe(f.audio, 16_000)
      ms.push(performance.now() - t)
    }
  }
  return ms.sort((a, b) => a - b)
}

const local = new WhisperCppBackend({ beamSize: 1 })
await local.loadModel('tiny.en')
const inProcess = await measure(local)
await local.close()
const server = await replica()
const remoteBackend = new OpenAiBackend({ baseUrl: `${server.url}/v1`, concurrency: 1 })
await remoteBackend.loadModel('tiny.en')
const overRest = await measure(remoteBackend)
await remoteBackend.close()
await server.stop()
const remote = {
  calls: inProcess.length,
  inProcessMs: { p50: q(inProcess, 0.5), p95: q(inProcess, 0.95) },
  remoteMs: { p50: q(overRest, 0.5), p95: q(overRest, 0.95) },
}
remote.ratioP50 = Math.round((100 * remote.remoteMs.p50) / remote.inProcessMs.p50) / 100
console.error(`remote: ${JSON.stringify(remote)}`)

// ---- 2. one replica vs two behind HAProxy ------------------------------------------------

const speech = composeUtterances(fixtures.slice(0, 8), [1.0], { leadSeconds: 0.5, trailSeconds: 1.5 })

/** N real-time sessions at `url`: final latencies after each utterance's end of speech, and failures. */
async function sessions(url, n, replicas) {
  const latencies = []
  let failures = 0
  // Resident memory of the replicas, sampled each second while the sessions run.
  let peakRssBytes = 0
  const sampler = setInterval(async () => {
    const rss = await Promise.all(replicas.map((r) => residentBytes(r.url)))
    peakRssBytes = Math.max(
      peakRssBytes,
      rss.reduce((a, b) => a + b, 0),
    )
  }, 1000)
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await sleep(i * 150) // not all in one frame
      const session = connect(`${url.replace('http', 'ws')}/ws/transcribe/prompt`, { revisions: false })
      session.on('error', () => failures++)
      try {
        await session.ready
      } catch {
        failures++
        return
      }
      const start = performance.now()
      const seen = new Set()
      session.on('final', (f) => {
        // A final may hold more than one utterance: it is late by the last one's end.
        const ks = speech.utterances
          .map((u, k) => (f.audio_end > u.start && f.audio_start < u.end && !seen.has(k) ? k : -1))
          .filter((k) => k >= 0)
        if (ks.length === 0) return
        for (const k of ks) seen.add(k)
        latencies.push(performance.now() - start - speech.utterances[ks.at(-1)].end * 1000)
      })
      await streamAudio(session, speech.audio, { realtime: true })
      await session.end().catch(() => failures++)
      failures += speech.utterances.length - seen.size
    }),
  )
  clearInterval(sampler)
  latencies.sort((a, b) => a - b)
  return {
    sessions: n,
    finalP50Ms: q(latencies, 0.5),
    finalP95Ms: q(latencies, 0.95),
    failures,
    peakRssMb: Math.round(peakRssBytes / 2 ** 20),
  }
}

async function residentBytes(url) {
  const text = await fetch(`${url}/metrics`).then(
    (r) => r.text(),
    () => '',
  )
  return Number(/^ws_process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? 0)
}

async function capacity(label, url, replicas) {
  const idleRssMb = Math.round(
    (await Promise.all(replicas.map((r) => residentBytes(r.url)))).reduce((a, b) => a + b, 0) / 2 ** 20,
  )
  const rows = []
  let held = 0
  for (let n = 1; n <= maxSessions; n++) {
    const row = await sessions(url, n, replicas)
    const ok = row.failures === 0 && row.finalP95Ms !== null && row.finalP95Ms < 1000
    rows.push({ ...row, ok })
    console.error(`${label} N=${n}: ${JSON.stringify(row)}`)
    // One more N after the first miss: a p95 of a few dozen finals is noisy.
    if (ok) held = n
    else if (n > held + 1) break
  }
  return { held, idleRssMb, rows }
}

const oneCore = await replica({ cores: '0', threads: 1 })
const single = await capacity('one replica', oneCore.url, [oneCore])
await oneCore.stop()

const pair = [await replica({ cores: '0', threads: 1 }), await replica({ cores: '1', threads: 1 })]
const dir = mkdtempSync(join(tmpdir(), 'ws-bench-haproxy-'))
const frontPort = await freePort()
writeFileSync(
  join(dir, 'haproxy.cfg'),
  loopbackConfig(
    frontPort,
    pair.map((r) => r.port),
  ),
)
const balancer = spawn(haproxyBinary() ?? 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], {
  stdio: 'ignore',
})
const front = `http://127.0.0.1:${frontPort}`
await waitReady(`${front}/ready`)
await sleep(2500)
const double = await capacity('two replicas behind HAProxy', front, pair)
balancer.kill('SIGTERM')
await Promise.all(pair.map((r) => r.stop()))
rmSync(dir, { recursive: true, force: true })

const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  command: 'node bench/scale.mjs',
  remote,
  replicas: {
    one: single,
    two: double,
    ratio: single.held > 0 ? Math.round((100 * double.held) / single.held) / 100 : null,
  },
}
const row = (label, r) =>
  `| ${label} | ${r.sessions} | ${r.finalP50Ms ?? '–'} ms | ${r.finalP95Ms ?? '–'} ms | ${r.failures} | ${r.peakRssMb} MB | ${r.ok ? 'held' : 'not held'} |`
const md = [
  '# Scale-out',
  '',
  `${report.date.slice(0, 10)} · ${report.machine} · \`${report.command}\` · whisper.cpp tiny.en greedy`,
  '',
  '## Remote backend over in-process, loopback',
  '',
  `Ten Harvard sentences × ${ROUNDS}, one call at a time.`,
  '',
  '| | p50 | p95 |',
  '|---|---:|---:|',
  `| in process (@ws/backend-whispercpp) | ${remote.inProcessMs.p50} ms | ${remote.inProcessMs.p95} ms |`,
  `| remote (@ws/backend-openai → @ws/server REST on loopback) | ${remote.remoteMs.p50} ms | ${remote.remoteMs.p95} ms |`,
  '',
  `Ratio of the medians, remote / in process: **${remote.ratioP50}**.`,
  '',
  '## Sessions held: one replica vs two behind HAProxy',
  '',
  'Each replica pinned to a core of its own (one thread), as if each were a machine; `prompt`, eight',
  'Harvard sentences (34 s) in real time per session, revisions off; held = all admitted, no',
  'error, final p95 < 1 s after the end of speech (the largest such N; one N past the first miss is tried).',
  '',
  '| | sessions | final p50 | final p95 | failures | peak RSS (all replicas) | |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...single.rows.map((r) => row('one replica', r)),
  ...double.rows.map((r) => row('two replicas, HAProxy', r)),
  '',
  `Held: one replica **${single.held}**, two replicas **${double.held}** (ratio ${report.replicas.ratio}).`,
  `Idle RSS: one replica ${single.idleRssMb} MB, two ${double.idleRssMb} MB.`,
]
mkdirSync(args.out, { recursive: true })
writeFileSync(`${args.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
process.exit(0)
