// Does re-decoding a looping whisper.cpp result with a wider window still pay? On the sixty
// Harvard sentences: each sentence whole (a final: margin 128, beam 1 and 5) and its prefixes
// every 0.5 s (partials: greedy, margin 64, token cap), how many results loop (`hasLoop`), and
// the WER of those results as decoded and after the backend's re-decode.
//
//   node bench/loops.mjs        (after the build; tiny.en must be provisioned)
import { fileURLToPath } from 'node:url'
import { hasLoop } from '@ws/backend-whispercpp'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { resolveGgmlModel } from '@ws/models'
import { WhisperModel } from '@ws/whispercpp-addon'

const dir = (d) => fileURLToPath(new URL(`../fixtures/${d}`, import.meta.url))
const fixtures = [
  ...loadSpeechFixtures(dir('speech'), (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(dir('wer'), () => true),
]
const model = await WhisperModel.load((await resolveGgmlModel('tiny.en')).file, { alignmentHeads: 'tiny.en' })
const ctx = (samples, margin) => Math.min(1500, Math.ceil((Math.max(samples, 16_800) / 16_000) * 50) + margin)
const pad = (a) => {
  if (a.length >= 16_800) return a // whisper.cpp needs a second of audio; the backend pads too
  const out = new Float32Array(16_800)
  out.set(a)
  return out
}
const run = async (audio, p) => {
  const r = await model.transcribe(pad(audio), {
    threads: 2,
    noSpeechThreshold: 1,
    suppressNonSpeech: true,
    entropyThreshold: 2.8,
    logprobThreshold: -2,
    ...p,
  })
  return r.segments.map((s) => ({ start: 0, end: 0, text: s.text.trim() })).filter((s) => s.text)
}
const text = (segs) => segs.map((s) => s.text).join(' ')
const report = (label, pairs, calls) => {
  const looped = pairs.length
  const before = looped
    ? corpusWordErrorRate(pairs.map((p) => ({ reference: p.ref, hypothesis: p.before })))
    : 0
  const after = looped
    ? corpusWordErrorRate(pairs.map((p) => ({ reference: p.ref, hypothesis: p.after })))
    : 0
  console.log(
    `${label}: ${looped} of ${calls} results loop; their WER ${(before * 100).toFixed(1)} % as decoded, ${(after * 100).toFixed(1)} % re-decoded`,
  )
}
for (const beam of [1, 5]) {
  const pairs = []
  for (const f of fixtures) {
    const p = { beamSize: beam, bestOf: 5, temperatureInc: 0.2 }
    const segs = await run(f.audio, { ...p, audioCtx: ctx(f.audio.length, 128) })
    if (hasLoop(segs))
      pairs.push({ ref: f.text, before: text(segs), after: text(await run(f.audio, { ...p, audioCtx: 0 })) })
  }
  report(`finals, beam ${beam}, full-window re-decode`, pairs, fixtures.length)
}
const pairs = []
let calls = 0
for (const f of fixtures) {
  const words = f.text.split(/\s+/)
  for (let end = 8000; end < f.audio.length; end += 8000) {
    const audio = f.audio.subarray(0, end)
    const p = { beamSize: 1, temperatureInc: 0, maxTokens: Math.ceil((end / 16_000) * 10) + 8 }
    calls++
    const segs = await run(audio, { ...p, audioCtx: ctx(end, 64) })
    // The reference of a prefix: its share of the sentence's words (a rough bound).
    const ref = words.slice(0, Math.max(1, Math.round((words.length * end) / f.audio.length))).join(' ')
    if (hasLoop(segs))
      pairs.push({
        ref,
        before: text(segs),
        after: text(await run(audio, { ...p, audioCtx: ctx(end, 128) })),
      })
  }
}
report('partials (prefixes every 0.5 s), margin-128 re-decode', pairs, calls)
await model.free()
