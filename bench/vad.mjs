// Compares the two VADs on the project's speech fixtures: microseconds per frame, real-time
// factor, and how close the boundaries they find (through the core segmenter, each with its
// own segmenter defaults) come to the truth plus padding, clean and in 20 dB SNR pink noise.
//
//   node bench/vad.mjs        (after the build)
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { DEFAULT_VAD_SEGMENTER_OPTIONS, detectSpeech } from '@ws/core'
import { loadSpeechFixtures, vadTestCorpus } from '@ws/core/testing'
import { SileroVad } from '@ws/vad-silero'
import { WebRtcVad } from '@ws/vad-webrtc'

const FIXTURES = fileURLToPath(new URL('../fixtures/speech', import.meta.url))
const { clean, noisy } = vadTestCorpus(loadSpeechFixtures(FIXTURES, (f) => /^harvard-/.test(f.name)))
const seconds = clean.audio.length / 16_000

const results = []
for (const [name, create] of [
  ['webrtc', () => WebRtcVad.create()],
  ['silero', () => SileroVad.create()],
]) {
  const row = { vad: name }
  // Noisy first: the clean pass, which is timed, then runs warm (WebAssembly tiers up over
  // the first thousand frames or so, as a server's VAD is after its first minute).
  for (const [label, audio] of [
    ['noisy', noisy.mixed],
    ['clean', clean.audio],
  ]) {
    const vad = await create()
    const segmenter = { ...DEFAULT_VAD_SEGMENTER_OPTIONS, ...vad.segmenterDefaults }
    const t = performance.now()
    const elu = performance.eventLoopUtilization()
    const { regions, decisions } = await detectSpeech(vad, audio, segmenter)
    const ms = performance.now() - t
    const loopBusy = performance.eventLoopUtilization(elu)
    await vad.close?.()
    const errors = []
    let found = 0
    let merged = 0
    const overlaps = (a, b) => a.start < b.end && a.end > b.start
    clean.utterances.forEach((u, i) => {
      const hits = regions.filter((r) => overlaps(r, u))
      if (hits.length === 0) return
      found++
      if (hits.some((r) => clean.utterances.some((o, j) => j !== i && overlaps(r, o)))) merged++
      errors.push(
        Math.abs(hits[0].start - (u.start - segmenter.prePaddingMs / 1000)),
        Math.abs(hits[hits.length - 1].end - (u.end + segmenter.postPaddingMs / 1000)),
      )
    })
    const stray = regions.filter((r) => !clean.utterances.some((u) => overlaps(r, u))).length
    row[label] = {
      utterances: `${found}/${clean.utterances.length} found, ${merged} merged, ${regions.length} pieces, ${stray} false`,
      meanBoundaryErrorMs: Math.round((errors.reduce((a, b) => a + b, 0) / errors.length) * 1000),
      maxBoundaryErrorMs: Math.round(Math.max(...errors) * 1000),
    }
    if (label === 'clean') {
      row.usPerFrame = +((ms * 1000) / decisions.length).toFixed(1)
      row.frameMs = +((seconds * 1000) / decisions.length).toFixed(0)
      row.rtf = +(ms / 1000 / seconds).toFixed(5)
      // The event loop's own share of that time: the rest ran elsewhere (Silero's worker).
      row.eventLoopUsPerFrame = +((loopBusy.active * 1000) / decisions.length).toFixed(1)
    }
  }
  results.push(row)
}
console.log(
  JSON.stringify(
    { machine: `${cpus().length} × ${cpus()[0]?.model}`, audioSeconds: +seconds.toFixed(1), results },
    null,
    2,
  ),
)
console.log(
  '\n| VAD | frame | µs per frame | of which on the event loop | RTF | clean: utterances; boundary error mean / max | 20 dB SNR noise: utterances; boundary error mean / max |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  console.log(
    `| ${r.vad} | ${r.frameMs} ms | ${r.usPerFrame} | ${r.eventLoopUsPerFrame} | ${r.rtf} | ${r.clean.utterances}; ${r.clean.meanBoundaryErrorMs} / ${r.clean.maxBoundaryErrorMs} ms | ${r.noisy.utterances}; ${r.noisy.meanBoundaryErrorMs} / ${r.noisy.maxBoundaryErrorMs} ms |`,
  )
}
