// Runs on Node.js for arm64 under qemu-aarch64 (tests/arm64.test.ts): loads
// @ws/whispercpp-addon as a user's arm64 machine does (the prebuilt
// @ws/whispercpp-addon-linux-arm64, and the ggml CPU variant that scores best on this
// processor, or WS_GGML_CPU_VARIANT's), transcribes the real clips named on the command line
// (none: only loads) with tiny.en at an encoder window of the clip's length, and prints one
// JSON line: what was loaded, each clip's text and time.
import { realSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { loadAddon, WhisperModel } from '@ws/whispercpp-addon'

const names = process.argv.slice(2)
const started = performance.now()
const { info } = await loadAddon({ build: 'never' })
const clips = []
if (names.length > 0) {
  const model = await WhisperModel.load((await resolveGgmlModel('tiny.en')).file)
  try {
    for (const clip of realSpeechFixtures('real-en', (c) => names.includes(c.name))) {
      const t = performance.now()
      const audioCtx = Math.min(1500, Math.ceil(clip.audio.length / 320) + 128)
      const result = await model.transcribe(clip.audio, { audioCtx })
      const text = result.segments
        .map((s) => s.text)
        .join('')
        .trim()
      clips.push({ name: clip.name, reference: clip.text, text, ms: Math.round(performance.now() - t) })
    }
  } finally {
    await model.free()
  }
}
console.log(JSON.stringify({ arch: process.arch, info, ms: Math.round(performance.now() - started), clips }))
