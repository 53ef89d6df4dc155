#!/usr/bin/env node
// Word times worth trusting? The words' DTW times of each backend (tiny.en unless --model)
// against where the speech truly is, and the engine's own segment times beside them (what segments carried before
// `segmentTimes`). References:
// - each clip of `real-en` alone: its manifest's speech onset and offset against the first
//   word's start and the last word's end (and the first segment's start, the last one's end);
// - streams of clips joined with known pauses, many boundaries each: `real-en-long`'s 30 s and
//   2 min streams, and the three-voice conversation of the diarization tests (Allison, small
//   fish, big fish; seed 2, 24 turns: the Dutch turns are decoded by an English model, only
//   their times count). Each stream is transcribed in windows of at most 30 s cut in the middle
//   of a pause; each word goes to the reference utterance nearest its middle, and each
//   utterance's first word start and last word end are compared with its onset and offset.
// Each word time also as the server's REST answers give it: fitted to the speech the WebRTC VAD
// (mode 3) hears in the window (fitWordsToSpeech).
// Reports the median and p90 absolute error, and the median signed error (+: late), in ms.
//
//   node bench/word-times.mjs [--backends whispercpp,faster] [--model tiny.en] [--out <dir>]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fitWordsToSpeech, segmentTimes, speechRegions } from '@ws/core'
import { realConversation, realSpeechFixtures } from '@ws/core/testing'
import { WebRtcVad } from '@ws/vad-webrtc'
import { quantile } from './lib/stats.mjs'

const HELP = `Usage: node bench/word-times.mjs [options]
  --backends <list>   whispercpp,faster (default both)
  --model <name>      default tiny.en
  --out <dir>         default bench/results/word-times
  -h, --help`
const { values: a } = parseArgs({
  options: {
    backends: { type: 'string', default: 'whispercpp,faster' },
    model: { type: 'string', default: 'tiny.en' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/word-times', import.meta.url)) },
    help: { type: 'boolean', short: 'h' },
  },
})
if (a.help) {
  console.log(HELP)
  process.exit(0)
}
const SR = 16_000
const WINDOW_S = 30

const clips = realSpeechFixtures('real-en')
const streams = realSpeechFixtures('real-en-long').map((s) => ({
  name: `real-en-long ${s.name}`,
  audio: s.audio,
  refs: s.segments.map((x) => ({ start: x.start, end: x.end })),
}))
{
  const nl = realSpeechFixtures('real-nl')
  const voice = (list) => list.filter((c) => c.speechEnd - c.speechStart >= 1.5).slice(0, -3)
  const conv = realConversation(
    {
      allison: voice(clips),
      small: voice(nl.filter((c) => c.voice?.endsWith('small fish'))),
      big: voice(nl.filter((c) => c.voice?.endsWith('big fish'))),
    },
    { seed: 2, turns: 24 },
  )
  streams.push({ name: 'three-voice conversation (seed 2, 24 turns)', audio: conv.audio, refs: conv.turns })
}

/** Window cuts (samples): the middle of the last pause that keeps each window within 30 s. */
function windows(audio, refs) {
  const cuts = [0]
  let from = 0
  for (let i = 0; i + 1 < refs.length; i++) {
    const next = refs[i + 2] ? (refs[i + 1].end + refs[i + 2].start) / 2 : audio.length / SR
    if (next - from > WINDOW_S) {
      from = (refs[i].end + refs[i + 1].start) / 2
      cuts.push(Math.round(from * SR))
    }
  }
  cuts.push(audio.length)
  return cuts.slice(0, -1).map((c, i) => [c, cuts[i + 1]])
}

const words = (segments) => segments.flatMap((s) => s.words ?? [])
const stats = (errors) => {
  const abs = errors.map(Math.abs)
  const ms = (x) => (x === null ? null : Math.round(x * 1000))
  return {
    n: errors.length,
    medianAbsMs: ms(quantile(abs, 0.5)),
    p90AbsMs: ms(quantile(abs, 0.9)),
    medianSignedMs: ms(quantile(errors, 0.5)),
  }
}

const report = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  command: `node bench/word-times.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  model: a.model,
  rows: [],
}

for (const backendName of a.backends.split(',')) {
  const backend =
    backendName === 'faster'
      ? new (await import('@ws/backend-faster')).FasterWhisperBackend()
      : new (await import('@ws/backend-whispercpp')).WhisperCppBackend()
  await backend.loadModel(a.model)
  const e = {
    'clip onset, word': [],
    'clip offset, word': [],
    'clip onset, engine segment': [],
    'clip offset, engine segment': [],
    'clip onset, segmentTimes': [],
    'clip offset, segmentTimes': [],
    'clip onset, word fitted to VAD': [],
    'clip offset, word fitted to VAD': [],
    'stream onset, word': [],
    'stream offset, word': [],
    'stream onset, word fitted to VAD': [],
    'stream offset, word fitted to VAD': [],
  }
  const vad = await WebRtcVad.create()
  const fitted = async (audio, segments) => words(fitWordsToSpeech(segments, await speechRegions(audio, vad)))
  let missing = 0
  try {
    for (const c of clips) {
      const r = await backend.transcribe(c.audio, SR, { wordTimestamps: true, language: 'en' })
      const ws = words(r.segments)
      if (ws.length === 0 || r.segments.length === 0) {
        missing++
        continue
      }
      const timed = segmentTimes(r.segments)
      e['clip onset, word'].push(ws[0].start - c.speechStart)
      e['clip offset, word'].push(ws.at(-1).end - c.speechEnd)
      e['clip onset, engine segment'].push(r.segments[0].start - c.speechStart)
      e['clip offset, engine segment'].push(r.segments.at(-1).end - c.speechEnd)
      e['clip onset, segmentTimes'].push(timed[0].start - c.speechStart)
      e['clip offset, segmentTimes'].push(timed.at(-1).end - c.speechEnd)
      const fw = await fitted(c.audio, r.segments)
      e['clip onset, word fitted to VAD'].push(fw[0].start - c.speechStart)
      e['clip offset, word fitted to VAD'].push(fw.at(-1).end - c.speechEnd)
    }
    console.error(`${backendName}: ${clips.length} clips (${missing} without words)`)
    for (const s of streams) {
      const all = []
      const allFitted = []
      for (const [from, to] of windows(s.audio, s.refs)) {
        const audio = s.audio.subarray(from, to)
        const r = await backend.transcribe(audio, SR, { wordTimestamps: true, language: 'en' })
        for (const w of words(r.segments)) all.push({ start: w.start + from / SR, end: w.end + from / SR })
        for (const w of await fitted(audio, r.segments))
          allFitted.push({ start: w.start + from / SR, end: w.end + from / SR })
      }
      for (const [list, kind] of [
        [all, 'word'],
        [allFitted, 'word fitted to VAD'],
      ]) {
        const byRef = s.refs.map(() => [])
        for (const w of list) {
          const mid = (w.start + w.end) / 2
          let best = 0
          let bestGap = Infinity
          s.refs.forEach((ref, i) => {
            const gap = Math.max(ref.start - mid, mid - ref.end, 0)
            if (gap < bestGap) {
              bestGap = gap
              best = i
            }
          })
          byRef[best].push(w)
        }
        byRef.forEach((ws, i) => {
          if (ws.length === 0) return
          e[`stream onset, ${kind}`].push(ws[0].start - s.refs[i].start)
          e[`stream offset, ${kind}`].push(ws.at(-1).end - s.refs[i].end)
        })
      }
      console.error(`${backendName}: ${s.name}, ${s.refs.length} utterances`)
    }
  } finally {
    vad.close()
    await backend.close()
  }
  for (const [what, errors] of Object.entries(e))
    report.rows.push({ backend: backendName, what, ...stats(errors) })
}

mkdirSync(a.out, { recursive: true })
writeFileSync(`${a.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
const lines = [
  '# Word times against the speech',
  '',
  `${report.model}; ${clips.length} clips of \`real-en\` alone, then ${streams.map((s) => `${s.name} (${s.refs.length} utterances)`).join(', ')}, each in windows of at most ${WINDOW_S} s cut in pauses. ${report.date}, ${report.machine}, \`${report.command}\`.`,
  '',
  'Error = time given − reference (onset: speech start; offset: speech end), in ms; + is late.',
  '',
  '| backend | boundary, time from | n | median abs | p90 abs | median signed |',
  '|---|---|---:|---:|---:|---:|',
  ...report.rows.map(
    (r) => `| ${r.backend} | ${r.what} | ${r.n} | ${r.medianAbsMs} | ${r.p90AbsMs} | ${r.medianSignedMs} |`,
  ),
  '',
  '"engine segment": Whisper\'s own segment times (its timestamp tokens); "segmentTimes": the first segment\'s start and the last one\'s end as answers give them (from the words). faster-whisper sets its segments from its words itself. "word fitted to VAD": the word as the server\'s REST answers give it, trimmed to the speech the WebRTC VAD (mode 3) hears in its window (`fitWordsToSpeech`). The conversation\'s Dutch clips carry the studio\'s reverb, which their references count as speech (0.5–0.8 s after the last word): an early offset there is no error of the words.',
  '',
]
writeFileSync(`${a.out}/latest.md`, lines.join('\n'))
console.log(lines.join('\n'))
