#!/usr/bin/env node
// Words where nobody spoke: the non-speech set (scripts/non-speech.mjs: real recordings of
// music, keyboard, breathing, crowd, wind, traffic, machinery, animals and beeps, and sox's
// silence, noise and hum) through each VAD, each whole clip through the backend (as a REST
// file is), and the set joined into one stream through a live session per strategy (virtual
// clock, the server's defaults: greedy, WebRTC VAD, revisions on). Each backend runs with its
// no-speech guard off and on (`noSpeech`), and reads 80 real English clips clean, under 10 dB
// and under 0 dB of noise either way: invented words per minute of non-speech against the WER
// of real speech, and the share of non-speech time each VAD calls speech.
//
//   node bench/non-speech.mjs [--backends whispercpp,faster] [--strategies prompt,...] [--out <dir>]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate, DEFAULT_VAD_SEGMENTER_OPTIONS, detectSpeech, readWavMono } from '@ws/core'
import { mixAtSnr, realSpeechFixtures } from '@ws/core/testing'
import { SileroVad } from '@ws/vad-silero'
import { WebRtcVad } from '@ws/vad-webrtc'
import { nonSpeechDir, provisionNonSpeech } from '../scripts/non-speech.mjs'
import { virtualRun } from './lib/clients.mjs'

const HELP = `Usage: node bench/non-speech.mjs [options]
  --backends <list>     whispercpp,faster (default both)
  --strategies <list>   prompt,context,hybrid,agreement (default all)
  --out <dir>           default bench/results/non-speech
  -h, --help`
const { values: a } = parseArgs({
  options: {
    backends: { type: 'string', default: 'whispercpp,faster' },
    strategies: { type: 'string', default: 'prompt,context,hybrid,agreement' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/non-speech', import.meta.url)) },
    help: { type: 'boolean', short: 'h' },
  },
})
if (a.help) {
  console.log(HELP)
  process.exit(0)
}
const SR = 16_000
const GAP_S = 0.5
const manifest = provisionNonSpeech({ log: () => {} })
const clips = manifest.map((f) => ({
  ...f,
  audio: readWavMono(readFileSync(join(nonSpeechDir(), `${f.name}.wav`))).samples,
}))
const rms = (a) => Math.sqrt(a.reduce((t, x) => t + x * x, 0) / a.length)
/** `speech` with `noise` (looped) under it at `snrDb` by RMS; digital silence adds nothing. */
function underNoise(speech, noise, snrDb) {
  const gain = rms(noise) > 0 ? rms(speech) / rms(noise) / 10 ** (snrDb / 20) : 0
  const out = new Float32Array(speech.length)
  for (let i = 0; i < out.length; i++) out[i] = speech[i] + noise[i % noise.length] * gain
  return out
}
const words = (text) => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w))
const minutes = (audio) => audio.length / SR / 60
const round = (x, d = 1) => Number(x.toFixed(d))

// The set as one stream: the clips one after another, half a second of silence between.
const gap = new Float32Array(GAP_S * SR)
const stream = new Float32Array(clips.reduce((n, c) => n + c.audio.length + gap.length, 0))
let at = 0
for (const c of clips) {
  stream.set(c.audio, at)
  at += c.audio.length + gap.length
}
const streamCorpus = { utterances: [], texts: [] }

const report = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  command: `node bench/non-speech.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  minutes: round(minutes(stream), 2),
  vad: [],
  clips: [],
  live: [],
}

// Real speech, to show what the guard costs: clean, and under 10 and 0 dB of noise.
const real = realSpeechFixtures('real-en')
const speechSets = {
  clean: real,
  '10 dB': real.map((f) => ({ ...f, audio: mixAtSnr(f.audio, 10, { seed: 3 }).mixed })),
  '0 dB': real.map((f) => ({ ...f, audio: mixAtSnr(f.audio, 0, { seed: 3 }).mixed })),
  // Each clip under a clip of the non-speech set (cycled, looped): music, crowd, traffic, hum…
  'each noise, 10 dB': real.map((f, k) => ({
    ...f,
    audio: underNoise(f.audio, clips[k % clips.length].audio, 10),
  })),
}
/** The speech regions a new VAD from `create` finds in `audio`, through the core segmenter. */
async function regionsOf(create, audio) {
  const vad = await create()
  const { regions } = await detectSpeech(vad, audio, {
    ...DEFAULT_VAD_SEGMENTER_OPTIONS,
    ...vad.segmenterDefaults,
  })
  await vad.close?.()
  return regions
}

for (const [name, create] of [
  ['webrtc', () => WebRtcVad.create()],
  ['silero', () => SileroVad.create()],
]) {
  const row = { vad: name, byCategory: {} }
  let speech = 0
  for (const c of clips) {
    const regions = await regionsOf(create, c.audio)
    const s = regions.reduce((t, r) => t + Math.min(r.end, c.durationSeconds) - r.start, 0)
    speech += s
    row.byCategory[c.category] = round((row.byCategory[c.category] ?? 0) + s, 2)
  }
  row.speechShare = round((speech / clips.reduce((t, c) => t + c.durationSeconds, 0)) * 100)
  // The other side: the share of real speech (each clip's speech, as its manifest places it)
  // that the VAD hears, clean and under noise.
  row.speechHeard = {}
  for (const [set, fixtures] of Object.entries(speechSets)) {
    let [heard, total] = [0, 0]
    for (const f of fixtures) {
      const regions = await regionsOf(create, f.audio)
      total += f.speechEnd - f.speechStart
      heard += regions.reduce(
        (t, r) => t + Math.max(0, Math.min(r.end, f.speechEnd) - Math.max(r.start, f.speechStart)),
        0,
      )
    }
    row.speechHeard[set] = round((heard / total) * 100)
  }
  report.vad.push(row)
  console.error(
    `${name}: calls ${row.speechShare} % of the non-speech set speech; hears ${JSON.stringify(row.speechHeard)} % of real speech`,
  )
}

report.speech = []

for (const backendName of a.backends.split(',').filter(Boolean)) {
  for (const guard of ['off', 'on']) {
    // The server's decoding: greedy (its --beam-size 1); the guard at the backend's default.
    const options = { beamSize: 1, ...(guard === 'off' ? { noSpeech: false } : {}) }
    const backend =
      backendName === 'faster'
        ? new (await import('@ws/backend-faster')).FasterWhisperBackend(options)
        : new (await import('@ws/backend-whispercpp')).WhisperCppBackend(options)
    await backend.loadModel('tiny.en')
    try {
      let invented = 0
      for (const c of clips) {
        const r = await backend.transcribe(c.audio, SR)
        const n = words(r.text).length
        invented += n
        report.clips.push({
          backend: backendName,
          guard,
          clip: c.name,
          category: c.category,
          words: n,
          text: r.text.trim(),
        })
      }
      report.clips.push({
        backend: backendName,
        guard,
        clip: 'all',
        words: invented,
        perMinute: round(invented / minutes(stream)),
      })
      console.error(
        `${backendName}, guard ${guard}, whole clips: ${invented} words over ${clips.length} clips`,
      )
      for (const strategy of a.strategies.split(',')) {
        const r = await virtualRun(backend, strategy, stream, streamCorpus, [], { language: 'en' })
        const finals = words(r.text).length
        const revised = words(r.revised).length
        const partials = r.events
          ? r.events.filter((e) => e.type === 'partial').reduce((n, e) => n + words(e.text).length, 0)
          : undefined
        report.live.push({
          backend: backendName,
          guard,
          strategy,
          finals: r.finals.length,
          finalWords: finals,
          revisedWords: revised,
          ...(partials === undefined ? {} : { partialWords: partials }),
          perMinute: round(finals / minutes(stream)),
          text: r.text.slice(0, 200),
        })
        console.error(
          `${backendName}, guard ${guard}, ${strategy}: ${finals} words in finals, revised ${revised}`,
        )
      }
      const row = { backend: backendName, guard }
      for (const [name, set] of Object.entries(speechSets)) {
        const pairs = []
        for (const f of set)
          pairs.push({ reference: f.text, hypothesis: (await backend.transcribe(f.audio, SR)).text })
        row[name] = round(corpusWordErrorRate(pairs) * 100, 2)
      }
      report.speech.push(row)
      console.error(`${backendName}, guard ${guard}, real speech WER: ${JSON.stringify(row)}`)
    } finally {
      await backend.close()
    }
  }
}

mkdirSync(a.out, { recursive: true })
writeFileSync(`${a.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
const lines = [
  '# Words where nobody spoke',
  '',
  `${report.minutes} min of non-speech (${clips.length} clips: ${[...new Set(clips.map((c) => c.category))].join(', ')}); ${report.date}, ${report.machine}, \`${report.command}\`.`,
  '',
  `| VAD | share of non-speech time called speech | share of real speech heard (${real.length} clips): clean / 10 dB / 0 dB |`,
  '|---|---:|---:|',
  ...report.vad.map(
    (v) =>
      `| ${v.vad} | ${v.speechShare} % | ${v.speechHeard.clean} / ${v.speechHeard['10 dB']} / ${v.speechHeard['0 dB']} % |`,
  ),
  '',
  '| backend | guard | path | words | per minute of non-speech |',
  '|---|---|---|---:|---:|',
  ...report.clips
    .filter((c) => c.clip === 'all')
    .map((c) => `| ${c.backend} | ${c.guard} | whole clips (as REST) | ${c.words} | ${c.perMinute} |`),
  ...report.live.map(
    (l) =>
      `| ${l.backend} | ${l.guard} | live \`${l.strategy}\` finals (revised${l.partialWords === undefined ? '' : '; partials'}) | ${l.finalWords} (${l.revisedWords}${l.partialWords === undefined ? '' : `; ${l.partialWords}`}) | ${l.perMinute} |`,
  ),
  '',
  `WER of ${real.length} real English clips (whole clips, as REST), guard off and on:`,
  '',
  '| backend | guard | clean | 10 dB SNR (pink) | 0 dB SNR (pink) | 10 dB SNR, each non-speech clip |',
  '|---|---|---:|---:|---:|---:|',
  ...report.speech.map(
    (r) =>
      `| ${r.backend} | ${r.guard} | ${r.clean} % | ${r['10 dB']} % | ${r['0 dB']} % | ${r['each noise, 10 dB'] ?? '–'} % |`,
  ),
  '',
  'Per clip (whole clips):',
  '',
  '| backend | guard | clip | category | text |',
  '|---|---|---|---|---|',
  ...report.clips
    .filter((c) => c.clip !== 'all' && c.words > 0)
    .map(
      (c) => `| ${c.backend} | ${c.guard} | ${c.clip} | ${c.category} | ${c.text.replaceAll('|', '\\|')} |`,
    ),
  '',
]
writeFileSync(`${a.out}/latest.md`, lines.join('\n'))
console.log(lines.join('\n'))
