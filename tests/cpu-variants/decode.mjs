// Decodes real speech with whisper.cpp tiny.en on the ggml CPU variant WS_GGML_CPU_VARIANT names
// (or the one ggml chooses), at the server's greedy finals and at the revisions' beam 5, and
// with tiny.en-q8_0 greedy (quantized models take other kernels: AMX where there is AMX), with
// word probabilities; prints one JSON line: the variant's features and each decode's words.
// Run by tests/cpu-variants.test.ts, one process per variant (a process loads one variant).
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { realSpeechFixtures } from '@ws/core/testing'
import { loadAddon } from '@ws/whispercpp-addon'

const clips = Number(process.argv[2] ?? 10)
const { info } = await loadAddon()
const audio = [
  ...realSpeechFixtures('real-en').slice(0, clips),
  ...realSpeechFixtures('real-en-long', (s) => s.name.includes('30s')),
]
const decodes = []
for (const [model, beamSize] of [
  ['tiny.en', 1],
  ['tiny.en', 5],
  ['tiny.en-q8_0', 1],
]) {
  const backend = new WhisperCppBackend({ beamSize })
  await backend.loadModel(model)
  try {
    for (const f of audio) {
      const r = await backend.transcribe(f.audio, 16_000, { wordTimestamps: true })
      const words = r.segments.flatMap((s) => s.words ?? [])
      decodes.push({
        clip: f.name,
        model,
        beamSize,
        text: r.text,
        probabilities: words.map((w) => w.probability),
      })
    }
  } finally {
    await backend.close()
  }
}
console.log(JSON.stringify({ cpuVariant: info.cpuVariant, features: info.features, decodes }))
