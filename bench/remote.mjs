// The remote backend's cost on loopback: the ten Harvard sentences transcribed in process
// (whisper.cpp, tiny.en, greedy) and through @ws/backend-openai against a whisper-stream
// server in a child process (same engine and settings, its OpenAI-compatible REST), one call
// at a time, three rounds each; the ratio of the median latencies.
//
//   node bench/remote.mjs [--out bench/results/remote]
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { OpenAiBackend } from '@ws/backend-openai'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { loadSpeechFixtures } from '@ws/core/testing'

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: fileURLToPath(new URL('results/remote', import.meta.url)) } },
})
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const fixtures = loadSpeechFixtures(`${ROOT}fixtures/speech`, (f) => f.name.startsWith('harvard-'))
const ROUNDS = 3

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
const q = (xs, p) => Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))])

const local = new WhisperCppBackend({ beamSize: 1 })
await local.loadModel('tiny.en')
const inProcess = await measure(local)
await local.close()

const server = spawn(
  process.execPath,
  [`${ROOT}packages/server/dist/cli.js`, '--port', '0', '--beam-size', '1', '--no-demo'],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  },
)
const url = await new Promise((resolve, reject) => {
  let out = ''
  server.stdout.on('data', (d) => {
    out += d
    const m = /"url":"(http:\/\/[^"]+)"/.exec(out)
    if (m) resolve(m[1])
  })
  server.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)))
})
const remote = new OpenAiBackend({ baseUrl: `${url}/v1`, concurrency: 1 })
await remote.loadModel('tiny.en')
const overRest = await measure(remote)
await remote.close()
server.kill('SIGTERM')

const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  command: 'node bench/remote.mjs',
  calls: inProcess.length,
  inProcessMs: { p50: q(inProcess, 0.5), p95: q(inProcess, 0.95) },
  remoteMs: { p50: q(overRest, 0.5), p95: q(overRest, 0.95) },
}
report.ratioP50 = Math.round((100 * report.remoteMs.p50) / report.inProcessMs.p50) / 100
const md = [
  '# Remote backend over in-process, loopback',
  '',
  `${report.date.slice(0, 10)} · ${report.machine} · \`${report.command}\` · whisper.cpp tiny.en greedy; ten Harvard sentences × ${ROUNDS}, one call at a time`,
  '',
  `| | p50 | p95 |`,
  `|---|---:|---:|`,
  `| in process (@ws/backend-whispercpp) | ${report.inProcessMs.p50} ms | ${report.inProcessMs.p95} ms |`,
  `| remote (@ws/backend-openai → @ws/server REST on loopback) | ${report.remoteMs.p50} ms | ${report.remoteMs.p95} ms |`,
  '',
  `Ratio of the medians, remote / in process: **${report.ratioP50}**.`,
]
mkdirSync(args.out, { recursive: true })
writeFileSync(`${args.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
