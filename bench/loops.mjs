// Does re-decoding a looping whisper.cpp result with a wider window still pay? On the sixty
// Harvard sentences, through `WhisperCppBackend` as the server uses it: each sentence whole (a
// final, beam 1 and 5) and its prefixes every 0.5 s (partials: `preview`), how many results
// loop (the backend logs each re-decode) and the WER of those results as first decoded and as
// re-decoded.
//
//   node bench/loops.mjs        (after the build; tiny.en must be provisioned)
import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { loopCatcher } from './loop-log.mjs'

const SR = 16_000
const dir = (d) => fileURLToPath(new URL(`../fixtures/${d}`, import.meta.url))
const fixtures = [
  ...loadSpeechFixtures(dir('speech'), (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(dir('wer'), () => true),
]

/** A backend whose re-decodes are counted: the looping text from its debug log, then the result. */
async function backend(beamSize) {
  const catcher = loopCatcher()
  const logger = catcher.logger
  const b = new WhisperCppBackend({ beamSize, finalWindow: 'fitted', logger })
  await b.loadModel('tiny.en')
  const pairs = []
  const transcribe = async (audio, reference, options = {}) => {
    catcher.looped = undefined
    const { text } = await b.transcribe(audio, SR, options)
    if (catcher.looped !== undefined) pairs.push({ reference, before: catcher.looped, after: text })
  }
  return { pairs, transcribe, close: () => b.close() }
}

function report(label, pairs, calls) {
  const wer = (key) =>
    pairs.length ? corpusWordErrorRate(pairs.map((p) => ({ reference: p.reference, hypothesis: p[key] }))) : 0
  const pct = (x) => `${(x * 100).toFixed(1)} %`
  console.log(
    `${label}: ${pairs.length} of ${calls} results loop; their WER ${pct(wer('before'))} as decoded, ${pct(wer('after'))} re-decoded`,
  )
}

for (const beam of [1, 5]) {
  const b = await backend(beam)
  for (const f of fixtures) await b.transcribe(f.audio, f.text)
  report(`finals, beam ${beam}, full-window re-decode`, b.pairs, fixtures.length)
  await b.close()
}
const b = await backend(1)
let calls = 0
for (const f of fixtures) {
  const words = f.text.split(/\s+/)
  for (let end = SR / 2; end < f.audio.length; end += SR / 2) {
    // The reference of a prefix: its share of the sentence's words (a rough bound).
    const reference = words.slice(0, Math.max(1, Math.round((words.length * end) / f.audio.length))).join(' ')
    calls++
    await b.transcribe(f.audio.subarray(0, end), reference, { preview: true })
  }
}
report("partials (prefixes every 0.5 s), re-decoded with the final's margin", b.pairs, calls)
await b.close()
