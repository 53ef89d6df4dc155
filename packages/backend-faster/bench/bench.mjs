// Benchmark of @ws/backend-faster on this machine: latency per request for 2, 5 and 10 s of
// real speech on faster-whisper's 30 s window and on reduced ones, throughput with 4
// concurrent requests (in turn in the worker, and batched in CTranslate2 for comparison), and
// the worker's peak RSS. Prints JSON and a Markdown table.
//
//   pnpm --filter @ws/backend-faster bench      (after the build and `ws-faster-whisper setup`)
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { concatFloat32, WHISPER_SAMPLE_RATE } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { resolveCt2Model } from '@ws/models'
import { ensurePythonEnv, FasterWhisperBackend } from '../dist/index.js'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const speech = concatFloat32(english.map((f) => f.audio))
const clip = (seconds) => speech.slice(0, seconds * WHISPER_SAMPLE_RATE)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const peakRss = (pid) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

const repeats = Number(process.env.BENCH_REPEATS ?? 5)
const results = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  model: 'tiny.en',
  runs: [],
}
// windowMarginMs 0: faster-whisper's own 30 s window, the reference for the reduced one. The
// calls are a session's finals (`live`): a whole clip always gets the full window.
for (const [beamSize, maxBatch, windowMarginMs] of [
  [1, 1, 0],
  [1, 1, 2560],
  [1, 4, 2560],
  [5, 1, 0],
  [5, 1, 2560],
  [5, 4, 2560],
]) {
  const backend = new FasterWhisperBackend({ beamSize, maxBatch, windowMarginMs })
  await backend.loadModel('tiny.en')
  const live = { live: true }
  await backend.transcribe(clip(2), WHISPER_SAMPLE_RATE, live) // warm up
  const run = { beamSize, maxBatch, windowMarginMs, latencyMs: {}, rtf: {} }
  for (const seconds of [2, 5, 10]) {
    const times = []
    for (let i = 0; i < repeats; i++) {
      const t = performance.now()
      await backend.transcribe(clip(seconds), WHISPER_SAMPLE_RATE, live)
      times.push(performance.now() - t)
    }
    run.latencyMs[`${seconds}s`] = Math.round(median(times))
    run.rtf[`${seconds}s`] = +(median(times) / 1000 / seconds).toFixed(3)
  }
  // 4 different 5 s pieces of speech at once, 3 times; the median wall time counts.
  const walls = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    await Promise.all(
      [0, 1, 2, 3].map((k) =>
        backend.transcribe(
          speech.slice((5 * k + i) * WHISPER_SAMPLE_RATE, (5 * k + i + 5) * WHISPER_SAMPLE_RATE),
          WHISPER_SAMPLE_RATE,
          live,
        ),
      ),
    )
    walls.push((performance.now() - t) / 1000)
  }
  const wall = median(walls)
  run.concurrent4x5s = {
    wallSeconds: +wall.toFixed(2),
    audioSecondsPerSecond: +(20 / wall).toFixed(2),
    batched: backend.stats.batchedRequests,
  }
  run.workerPeakRssMb = Math.round(peakRss(backend.workerPid))
  results.runs.push(run)
  await backend.close()
}

// The same comparison at the CTranslate2 level, without the worker: 4 requests in turn and as one batch.
const { python } = await ensurePythonEnv()
const model = await resolveCt2Model('tiny.en')
const wavs = english.slice(0, 4).map((f) => `${FIXTURES}/${f.name}.wav`)
results.batching = JSON.parse(
  execFileSync(python, [fileURLToPath(new URL('./batching.py', import.meta.url)), model.dir, ...wavs], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop(),
)

console.log(JSON.stringify(results, null, 2))
console.log(`\nfaster-whisper ${results.model}, int8, on ${results.machine}\n`)
console.log(
  '| beam | max batch | window | 2 s | 5 s | 10 s | RTF (10 s) | 4 × 5 s at once | worker peak RSS |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of results.runs) {
  console.log(
    `| ${r.beamSize} | ${r.maxBatch} | ${r.windowMarginMs ? `audio + ${r.windowMarginMs / 1000} s` : '30 s'} | ${r.latencyMs['2s']} ms | ${r.latencyMs['5s']} ms | ${r.latencyMs['10s']} ms | ${r.rtf['10s']} | ${r.concurrent4x5s.wallSeconds} s (${r.concurrent4x5s.audioSecondsPerSecond}× real time) | ${r.workerPeakRssMb} MB |`,
  )
}
console.log('\n| beam | 4 requests in turn | batched | throughput ratio |\n| --- | --- | --- | --- |')
for (const b of results.batching)
  console.log(`| ${b.beam_size} | ${b.sequential_s} s | ${b.batched_s} s | ${b.throughput_ratio}× |`)
