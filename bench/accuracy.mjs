#!/usr/bin/env node
// Accuracy per corpus (issue: real speech): `node bench/accuracy.mjs [--backends whispercpp,faster]`.
// 1. Whole clips: each backend's default for a clip nobody waits for, against its full window
//    and its streaming (reduced) window, on real English telephone prompts and on espeak.
// 2. Streams: the same model offline (full window, the whole stream) against streaming finals
//    and the revised text, per strategy, on real English streams (30 s, 2 min) and an espeak
//    stream; real Spanish and Dutch streams with the multilingual `base`.
// Writes bench/results/accuracy/latest.{json,md}. Needs the real-speech corpora (the setup).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate, STRATEGY_NAMES } from '@ws/core'
import { loadSpeechFixtures, realSpeechFixtures } from '@ws/core/testing'
import { virtualRun } from './lib/clients.mjs'
import { corpus, FIXTURES, harvardFixtures, realStreams } from './lib/corpus.mjs'
import { median, quantile } from './lib/stats.mjs'

const HELP = `Usage: node bench/accuracy.mjs [options]

  --backends <list>     whispercpp,faster (default both; the others' rows are kept)
  --strategies <list>   prompt,context,hybrid,agreement (default all; the others' columns are kept)
  --skip-clips          skip the whole-clip part (its rows kept from the last report)
  --skip-languages      skip the Spanish and Dutch streams (base)
  --skip-streams        skip the streams (their rows kept from the last report)
  --skip-full-finals    skip the finals-at-the-full-window comparison (its rows kept)
  --out <dir>           where latest.json and latest.md go (bench/results/accuracy)
  --help                this text
`
const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'whispercpp,faster' },
    strategies: { type: 'string', default: 'prompt,context,hybrid,agreement' },
    'skip-clips': { type: 'boolean', default: false },
    'skip-languages': { type: 'boolean', default: false },
    'skip-streams': { type: 'boolean', default: false },
    'skip-full-finals': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const OUT = args.out ? `${args.out}/` : fileURLToPath(new URL('./results/accuracy/', import.meta.url))
const SR = 16_000
const pct = (x) => Number((x * 100).toFixed(1))
const werOf = (pairs, language) => pct(corpusWordErrorRate(pairs, { language, foldDiacritics: true }))

/** The `finalWindow` each of `backendOf`'s windows asks for (others: the backend's default). */
const FINAL_WINDOW = { 'full finals': 'full', fitted: 'fitted' }

/**
 * A backend of `name` on `model`; `window`: 'default', 'full' (every call), 'fitted' (a final
 * at `finalWindow: 'fitted'`: the window sized to the audio, as previews always get) or
 * 'full finals' (`finalWindow: 'full'`: finals full, previews fitted; what the default `auto` does for a session alone).
 */
async function backendOf(name, model, window = 'default', beamSize = 1) {
  const finals = FINAL_WINDOW[window] ? { finalWindow: FINAL_WINDOW[window] } : {}
  if (name === 'faster') {
    const { FasterWhisperBackend } = await import('@ws/backend-faster')
    const b = new FasterWhisperBackend({
      beamSize,
      ...finals,
      ...(window === 'full' ? { windowMarginMs: 0 } : {}),
    })
    await b.loadModel(model)
    return b
  }
  const { WhisperCppBackend } = await import('@ws/backend-whispercpp')
  const b = new WhisperCppBackend({ beamSize, ...finals, ...(window === 'full' ? { audioCtx: 'full' } : {}) })
  await b.loadModel(model)
  return b
}

const backends = args.backends.split(',')
const strategies = args.strategies.split(',')
const report = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
  clips: [],
  streams: [],
  fullFinals: [],
}
const synthetic = [...harvardFixtures(), ...loadSpeechFixtures(`${FIXTURES}wer`)]

/** The last report, whose rows a skipped part keeps. */
const last = existsSync(`${OUT}latest.json`) ? JSON.parse(readFileSync(`${OUT}latest.json`, 'utf8')) : {}
if (args['skip-clips']) {
  // Reports before finals went full by default called the fitted row 'streaming'.
  report.clips = (last.clips ?? []).map((r) => (r.window === 'streaming' ? { ...r, window: 'fitted' } : r))
} else {
  const sets = [
    ['real English (80 telephone prompts)', realSpeechFixtures('real-en')],
    ['synthetic (60 espeak sentences)', synthetic],
  ]
  for (const name of backends) {
    for (const beamSize of [1, 5]) {
      for (const window of ['default', 'full', 'fitted']) {
        const b = await backendOf(name, 'tiny.en', window, beamSize)
        const row = { backend: name, beamSize, window }
        for (const [label, set] of sets) {
          const pairs = []
          for (const f of set) {
            const r = await b.transcribe(f.audio, SR, window === 'fitted' ? { live: true } : {})
            pairs.push({ reference: f.text, hypothesis: r.text })
          }
          row[label] = werOf(pairs, 'en')
        }
        await b.close()
        report.clips.push(row)
        console.error(JSON.stringify(row))
      }
    }
  }
}

/** Streams: offline (full window, whole stream) against finals and revised text, per strategy. */
async function streams(label, model, language, list, names = backends, strats = strategies) {
  for (const name of names) {
    const offline = await backendOf(name, model, 'full')
    const live = await backendOf(name, model)
    const pairs = {
      offline: [],
      ...Object.fromEntries(
        strats.flatMap((s) => [
          [`${s} finals`, []],
          [`${s} revised`, []],
        ]),
      ),
    }
    for (const s of list) {
      const reference = s.reference
      const opts = language === 'en' ? {} : { language }
      pairs.offline.push({ reference, hypothesis: (await offline.transcribe(s.audio, SR, opts)).text })
      for (const strategy of strats) {
        const r = await virtualRun(live, strategy, s.audio, s, [], {
          language: language === 'en' ? undefined : language,
        })
        pairs[`${strategy} finals`].push({ reference, hypothesis: r.text })
        pairs[`${strategy} revised`].push({ reference, hypothesis: r.revised })
      }
    }
    const row = { corpus: label, backend: name, model }
    for (const [k, p] of Object.entries(pairs)) row[k] = werOf(p, language)
    await offline.close()
    await live.close()
    report.streams.push(row)
    console.error(JSON.stringify(row))
  }
}

if (args['skip-streams']) report.streams = last.streams ?? []
else await streams('real English streams (30 s + 2 min)', 'tiny.en', 'en', realStreams('real-en-long'))

/**
 * The lever on finals: `finalWindow: 'full'` (the default `auto` for a session alone: finals at the full 30 s window,
 * previews fitted) against `fitted` (finals sized to the audio), on the real English streams:
 * finals WER and the time each final's decode takes (what a final's latency adds after the
 * endpoint).
 */
async function fullWindowFinals(list) {
  for (const [backend, strategy] of backends.flatMap((b) => strategies.map((s) => [b, s]))) {
    const row = { backend, strategy }
    for (const [key, window] of [
      ['fitted', 'fitted'],
      ['full', 'full finals'],
    ]) {
      const b = await backendOf(backend, 'tiny.en', window)
      const pairs = []
      const ms = []
      for (const s of list) {
        const r = await virtualRun(b, strategy, s.audio, s, [], { reviseMs: 0 })
        pairs.push({ reference: s.reference, hypothesis: r.text })
        ms.push(...r.finalDecodeMs)
      }
      await b.close()
      row[key] = {
        finals: werOf(pairs, 'en'),
        p50Ms: Math.round(median(ms)),
        p95Ms: Math.round(quantile(ms, 0.95)),
      }
    }
    report.fullFinals.push(row)
    console.error(JSON.stringify(row))
  }
}
if (args['skip-full-finals']) report.fullFinals = last.fullFinals ?? []
else await fullWindowFinals(realStreams('real-en-long'))

const espeak = corpus(harvardFixtures(), 10)
if (!args['skip-streams']) await streams('synthetic stream (10 sentences)', 'tiny.en', 'en', [espeak])
if (!args['skip-languages'] && !args['skip-streams']) {
  await streams('real Spanish streams', 'base', 'es', realStreams('real-es-long'), ['whispercpp'], ['prompt'])
  await streams('real Dutch streams', 'base', 'nl', realStreams('real-nl-long'), ['whispercpp'], ['prompt'])
}

/** A stream row of this run with the columns of the strategies not run kept from the last report. */
function withKeptStrategies(part, row) {
  if (part !== 'streams') return row
  const before = (last.streams ?? []).find(
    (r) => r.corpus === row.corpus && r.backend === row.backend && r.model === row.model,
  )
  if (!before) return row
  const kept = Object.entries(before).filter(
    ([k]) => / (finals|revised)$/.test(k) && !strategies.includes(k.replace(/ (finals|revised)$/, '')),
  )
  const merged = { ...row, ...Object.fromEntries(kept) }
  const order = STRATEGY_NAMES.flatMap((k) => [`${k} finals`, `${k} revised`])
  const rest = Object.keys(merged).filter((k) => !order.includes(k))
  return Object.fromEntries([...rest, ...order.filter((k) => k in merged)].map((k) => [k, merged[k]]))
}

// Rows of the backends not run this time stay from the last report (its machine said below).
const keptBackends = [...new Set((last.streams ?? []).map((r) => r.backend))].filter(
  (b) => !backends.includes(b),
)
for (const part of ['clips', 'streams', 'fullFinals']) {
  if (part === 'clips' && args['skip-clips']) continue
  if (part === 'streams' && args['skip-streams']) continue
  if (part === 'fullFinals' && args['skip-full-finals']) continue
  const skippedLanguages = (r) =>
    args['skip-languages'] && part === 'streams' && / (Spanish|Dutch) /.test(r.corpus)
  const rows = [
    ...(last[part] ?? []).filter((r) => keptBackends.includes(r.backend) || skippedLanguages(r)),
    ...report[part].map((r) => withKeptStrategies(part, r)),
    // Full-window rows of strategies not run this time.
    ...(part === 'fullFinals'
      ? (last.fullFinals ?? []).filter(
          (r) => backends.includes(r.backend) && !strategies.includes(r.strategy),
        )
      : []),
  ]
  // Real English, synthetic, then the other languages; whisper.cpp before faster-whisper; the
  // strategies in their order (a stable sort keeps the rest as it was).
  const rank = (c) => ['English', 'synthetic', 'Spanish', 'Dutch'].findIndex((k) => c?.includes(k))
  report[part] = rows.sort(
    (a, b) =>
      rank(a.corpus) - rank(b.corpus) ||
      b.backend.localeCompare(a.backend) ||
      STRATEGY_NAMES.indexOf(a.strategy) - STRATEGY_NAMES.indexOf(b.strategy),
  )
}
// The machine each backend's stream rows were measured on, kept rows keeping theirs.
report.machines = Object.fromEntries([
  ...keptBackends.map((k) => [k, last.machines?.[k] ?? last.machine]),
  ...backends.map((k) => [k, report.machine]),
])
const keptNote = keptBackends
  .map((k) => ` Rows of ${k} are from an earlier run, on ${report.machines[k]}.`)
  .join('')
const strategiesNote = STRATEGY_NAMES.every((k) => strategies.includes(k))
  ? ''
  : ` In this run ${backends.join(' and ')} measured ${strategies.join(', ')} only; the other strategies' figures of ${backends.join(' and ')} are from the last report.`
const languagesNote = args['skip-languages']
  ? ' The Spanish and Dutch rows are from the last report that measured them.'
  : ''
const clipsNote = args['skip-clips'] ? ' These rows are from the last report that measured them.' : ''

const clipRows = report.clips.map(
  (r) =>
    `| ${r.backend} | ${r.beamSize} | ${r.window} | ${r['real English (80 telephone prompts)']} | ${r['synthetic (60 espeak sentences)']} |`,
)
const streamRows = report.streams.flatMap((r) =>
  Object.keys(r)
    .filter((k) => k.endsWith(' finals'))
    .map((k) => {
      const s = k.replace(' finals', '')
      return `| ${r.corpus} | ${r.backend} ${r.model} | ${s} | ${r.offline} | ${r[k]} | ${r[`${s} revised`]} |`
    }),
)
const fullRows = report.fullFinals.map(
  (r) =>
    `| ${r.backend} | ${r.strategy} | ${r.fitted.finals} | ${r.full.finals} | ${r.fitted.p50Ms} / ${r.fitted.p95Ms} ms | ${r.full.p50Ms} / ${r.full.p95Ms} ms | ${(r.full.p50Ms / r.fitted.p50Ms).toFixed(2)}× |`,
)
const md = `# Accuracy per corpus

\`node bench/accuracy.mjs\` on ${report.machine}, Node ${process.versions.node}. WER (%) on Whisper's English normalisation (other languages: case, punctuation and accents ignored); greedy unless said.${keptNote}${strategiesNote}${languagesNote}

## Whole clips

"default" is what a backend does for a clip nobody waits for in real time (a file, a REST call): the full 30 s window on both (chosen on the real clips), as a session's final gets by default; "fitted" is a session's final (\`live\`) with \`finalWindow: 'fitted'\`: a window fitted to the audio.${clipsNote}

| backend | beam | window | real English | synthetic |
| --- | --- | --- | --- | --- |
${clipRows.join('\n')}

## Streams: offline against streaming finals and revisions

Offline: the same model on the whole stream at the full window. Finals and revised text from a session on a virtual clock (every call's result before the next frame; the WebRTC VAD; revisions in blocks of up to 28 s).

| corpus | model | strategy | offline | finals | revised |
| --- | --- | --- | --- | --- | --- |
${streamRows.join('\n')}

## Finals at the full window (real English streams)

The same sessions (virtual clock, no revisions) with \`finalWindow: 'full'\` (what the default \`auto\` does for a session alone: finals on the full 30 s window, previews fitted) against \`finalWindow: 'fitted'\` (each final's window fitted to its audio); the time of each final's decode (p50 / p95) is what the final's latency adds after the endpoint, on this machine.

| backend | strategy | finals WER, fitted | finals WER, full | final decode, fitted | final decode, full | p50 ratio |
| --- | --- | --- | --- | --- | --- | --- |
${fullRows.join('\n')}
`
mkdirSync(OUT, { recursive: true })
writeFileSync(`${OUT}latest.json`, `${JSON.stringify(report, null, 1)}\n`)
writeFileSync(`${OUT}latest.md`, md)
process.stdout.write(md)
