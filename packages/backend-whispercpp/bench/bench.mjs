// Benchmark of @ws/backend-whispercpp on this machine: ms per transcription for 2, 5 and
// 10 s of real speech, with the encoder window sized to the audio (audioCtx 'auto') and at
// Whisper's full 30 s, the real-time factor, and the process's peak RSS.
//
//   pnpm --filter @ws/backend-whispercpp bench      (after the build)
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { concatFloat32, WHISPER_SAMPLE_RATE } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { WhisperCppBackend } from '../dist/index.js'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const speech = concatFloat32(english.map((f) => f.audio))
const clip = (seconds) => speech.slice(0, seconds * WHISPER_SAMPLE_RATE)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const peakRss = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024
const repeats = Number(process.env.BENCH_REPEATS ?? 5)

const runs = []
for (const audioCtx of ['auto', 'full']) {
  const backend = new WhisperCppBackend({ audioCtx, beamSize: 5 })
  await backend.loadModel('tiny.en')
  await backend.transcribe(clip(2), WHISPER_SAMPLE_RATE)
  const run = { audioCtx, ms: {}, rtf: {} }
  for (const seconds of [2, 5, 10]) {
    const times = []
    for (let i = 0; i < repeats; i++) {
      const t = performance.now()
      await backend.transcribe(clip(seconds), WHISPER_SAMPLE_RATE)
      times.push(performance.now() - t)
    }
    run.ms[`${seconds}s`] = Math.round(median(times))
    run.rtf[`${seconds}s`] = +(median(times) / 1000 / seconds).toFixed(3)
  }
  runs.push(run)
  await backend.close()
}
const machine = `${cpus().length} × ${cpus()[0]?.model}`
console.log(
  JSON.stringify({ machine, model: 'tiny.en (ggml f16)', runs, peakRssMb: Math.round(peakRss()) }, null, 2),
)
console.log(
  `\nwhisper.cpp (smart-whisper, -march=native) tiny.en, beam 5, on ${machine}; process peak RSS ${Math.round(peakRss())} MB\n`,
)
console.log('| audio_ctx | 2 s | 5 s | 10 s | RTF (10 s) |\n| --- | --- | --- | --- | --- |')
for (const r of runs)
  console.log(`| ${r.audioCtx} | ${r.ms['2s']} ms | ${r.ms['5s']} ms | ${r.ms['10s']} ms | ${r.rtf['10s']} |`)
