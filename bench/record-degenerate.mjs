// Records real degenerate outputs of both engines for the degenerate-text guard's tests
// (fixtures/degenerate/recorded.json), each with the plain transcript of the same audio:
// - whisper.cpp: previews (greedy, +1.28 s encoder window) of sentence prefixes every 0.5 s,
//   through WhisperCppBackend as the server uses it; the looping text comes from its debug
//   log, the plain one is its re-decode at the wider window.
// - faster-whisper: the same prefixes through faster-whisper at temperature 0 without its
//   fallback (the thresholds off), as a batch at temperature 0 decodes, kept when faster-whisper's
//   own rule calls it a failed decode (compression ratio over 2.4); the plain text is
//   faster-whisper's default decoding of the same audio.
// Neither is selected by the guard under test (`degenerateText`).
//
//   node bench/record-degenerate.mjs      (after the build; tiny.en provisioned, the venv made)
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensurePythonEnv } from '@ws/backend-faster'
import { hasLoop, WhisperCppBackend } from '@ws/backend-whispercpp'
import { loadSpeechFixtures } from '@ws/core/testing'
import { resolveCt2Model } from '@ws/models'
import { loopCatcher } from './loop-log.mjs'

const SR = 16_000
const MAX_PER_ENGINE = 4
const dir = (d) => fileURLToPath(new URL(`../fixtures/${d}`, import.meta.url))
const fixtures = [
  ...loadSpeechFixtures(dir('speech'), (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(dir('wer'), () => true),
]
const prefixes = fixtures.flatMap((f) => {
  const out = []
  for (let end = SR; end < f.audio.length; end += SR / 2)
    out.push({ name: f.name, audio: f.audio.subarray(0, end) })
  return out
})
const recorded = []

// ---- whisper.cpp
const catcher = loopCatcher()
const cpp = new WhisperCppBackend({ beamSize: 1, logger: catcher.logger })
await cpp.loadModel('tiny.en')
for (const p of prefixes) {
  catcher.looped = undefined
  const { text } = await cpp.transcribe(p.audio, SR, { preview: true })
  const seconds = p.audio.length / SR
  // Selected by the backend's own loop detector (hasLoop), not by the guard under test.
  const looped = catcher.looped
  if (looped === undefined || recorded.some((r) => r.text === looped)) continue
  recorded.push({
    engine: 'whisper.cpp 1.8.5 (@ws/whispercpp-addon), tiny.en',
    how: `preview, greedy, encoder window +1.28 s: the first ${seconds} s of ${p.name}`,
    seconds,
    text: looped,
    plain: text,
    plainLoops: hasLoop([{ start: 0, end: seconds, text }]),
  })
  if (recorded.length >= MAX_PER_ENGINE) break
}
await cpp.close()

// ---- faster-whisper
const { python } = await ensurePythonEnv()
const model = await resolveCt2Model('tiny.en')
const work = mkdtempSync(join(tmpdir(), 'ws-degenerate-'))
const inputs = prefixes.map((p, i) => {
  const file = join(work, `${i}.f32`)
  writeFileSync(file, Buffer.from(p.audio.buffer, p.audio.byteOffset, p.audio.byteLength))
  return { file, name: p.name, seconds: p.audio.length / SR }
})
const script = `
import json, sys, numpy as np
from faster_whisper import WhisperModel
from faster_whisper.transcribe import get_compression_ratio
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
out = []
for item in json.load(sys.stdin):
    audio = np.fromfile(item["file"], dtype="<f4")
    def text(**kw):
        segs, _ = model.transcribe(audio, language="en", beam_size=1, vad_filter=False, condition_on_previous_text=False, **kw)
        return " ".join(s.text.strip() for s in segs)
    raw = text(temperature=0.0, compression_ratio_threshold=None, log_prob_threshold=None, no_speech_threshold=None)
    out.append({"raw": raw, "ratio": get_compression_ratio(raw), "plain": text()})
print(json.dumps(out))
`
const results = JSON.parse(
  execFileSync(python, ['-c', script, model.dir], {
    input: JSON.stringify(inputs),
    maxBuffer: 1 << 26,
  }).toString(),
)
rmSync(work, { recursive: true, force: true })
let faster = 0
for (const [i, r] of results.entries()) {
  const { name, seconds } = inputs[i]
  // Selected by faster-whisper's own rule for a failed decode (compression ratio over 2.4),
  // not by the guard under test.
  if (!(r.ratio > 2.4) || recorded.some((x) => x.text === r.raw)) continue
  recorded.push({
    engine: 'faster-whisper (CTranslate2), tiny.en int8',
    how: `temperature 0, no fallback thresholds, greedy (compression ratio ${r.ratio.toFixed(2)}): the first ${seconds} s of ${name}`,
    seconds,
    text: r.raw,
    plain: r.plain,
    // The default decode can loop too: whisper.cpp's loop detector says so, not the guard.
    plainLoops: hasLoop([{ start: 0, end: seconds, text: r.plain }]),
  })
  if (++faster >= MAX_PER_ENGINE) break
}

mkdirSync(dir('degenerate'), { recursive: true })
writeFileSync(join(dir('degenerate'), 'recorded.json'), `${JSON.stringify(recorded, null, 2)}\n`)
console.log(
  `${recorded.length - faster} whisper.cpp and ${faster} faster-whisper degenerate outputs recorded`,
)
