// How whisper.cpp's speed holds when the CPU is shared: the same transcription alone, beside
// one CPU-bound process, and beside a second whisper.cpp process; medians, and the slowdowns.
//
//   node bench/contention.mjs [--json]     (after the build; tiny.en must be provisioned)
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { concatFloat32 } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { WhisperModel } from '../dist/index.js'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const english = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const audio = concatFloat32(english.slice(0, 3).map((f) => f.audio)).slice(0, 11 * 16_000)
const repeats = Number(process.env.BENCH_REPEATS ?? 5)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function measureContention({ repeats: n = repeats } = {}) {
  const file = (await resolveGgmlModel('tiny.en')).file
  const model = await WhisperModel.load(file)
  const params = { audioCtx: Math.ceil((audio.length / 16_000) * 50) + 64, beamSize: 5, temperatureInc: 0 }
  await model.transcribe(audio, params)
  const time = async () => {
    const xs = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      await model.transcribe(audio, params)
      xs.push(performance.now() - t)
    }
    return median(xs)
  }
  const beside = async (args) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore' })
    await new Promise((r) => setTimeout(r, 300))
    try {
      return await time()
    } finally {
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
    }
  }
  const alone = await time()
  const busy = await beside(['-e', 'for (;;) {}'])
  const self = fileURLToPath(import.meta.url)
  const other = await beside([self, '--loop'])
  await model.free()
  return {
    audioSeconds: audio.length / 16_000,
    aloneMs: Math.round(alone),
    besideBusyLoopMs: Math.round(busy),
    besideWhisperMs: Math.round(other),
    slowdownBusyLoop: +(busy / alone).toFixed(2),
    slowdownWhisper: +(other / alone).toFixed(2),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--loop')) {
    // The competing whisper.cpp process: transcribes until killed.
    const model = await WhisperModel.load((await resolveGgmlModel('tiny.en')).file)
    for (;;) await model.transcribe(audio, { audioCtx: 614, beamSize: 5 })
  }
  const r = await measureContention()
  if (process.argv.includes('--json')) console.log(JSON.stringify(r))
  else {
    console.log(
      `whisper.cpp tiny.en, beam 5, ${r.audioSeconds} s of speech, ${cpus().length} × ${cpus()[0]?.model}`,
    )
    console.log(
      `alone ${r.aloneMs} ms; beside a busy loop ${r.besideBusyLoopMs} ms (×${r.slowdownBusyLoop}); beside another whisper.cpp ${r.besideWhisperMs} ms (×${r.slowdownWhisper})`,
    )
  }
}
