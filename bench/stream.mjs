// `pnpm bench`: streaming accuracy, latency and capacity of whisper-stream on this machine.
//
//   pnpm bench                     the matrix (backends × strategies), both modes, an A/B pair
//   pnpm bench -- --smoke          one configuration on short audio (CI runs this)
//   node bench/stream.mjs --help
//
// Inputs: Harvard sentences (espeak-ng fixtures) joined by 0.3–2 s of silence, clean and with
// pink noise at 20 and 10 dB SNR; the reference text and speech bounds come from synthesis,
// word end times from an offline run with word timestamps on each clean sentence.
// Virtual mode: a StreamingSession in this process on a clock driven by the audio (each
// transcription completes before more audio is pushed), so policy latencies and WER carry
// no machine noise. Real-time mode: the server in a child process, N clients sending 20 ms
// frames at real-time pace over WebSocket; the load generator's own CPU is reported.
// Output: bench/results/latest.json and latest.md.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate, encodePcm16le, normalizedWords, StreamingSession } from '@ws/core'
import { composeUtterances, loadSpeechFixtures, mixAtSnr } from '@ws/core/testing'
import WebSocket from 'ws'

const HELP = `Usage: node bench/stream.mjs [options]
  --smoke                 one configuration, short audio, no capacity search (for CI)
  --backends <list>       whispercpp,faster (default both)
  --strategies <list>     prompt,context,hybrid,agreement (default all)
  --noise <list>          clean,20,10 (default all; SNR in dB)
  --sentences <n>         sentences in the long-form input (default 6)
  --capacity-max <n>      largest N tried in the capacity search (default 6; 0 = skip)
  --compare <a|b>         two server flag sets compared A B B A in real time
                          (default "--beam-size 1|--beam-size 5")
  --long-minutes <m>      the long-form run: a real-time prompt session of m minutes of the
                          speech fixtures (both voices) joined by 0.3-2 s of silence, per
                          minute (default 10; 0 = skip)
  --skip-scale            skip the scale-out part (bench/scale.mjs: the remote backend over
                          in process, sessions held by one replica and by two behind HAProxy)
  --scale-max-sessions <n>  the scale-out part's largest N (default 8)
  --skip-engine           skip the whisper.cpp engine checks (CPU contention; a plain npm
                          install from tarballs against the workspace build)
  --revise-ms <n>         revisions: blocks of up to n ms decoded again (default 28000, the
                          server's default; 0: off)
  --server-log <file>     append the servers' logs at debug level to this file (each call's
                          timing, loops decoded again) to trace a slow final
  --out <dir>             where latest.json and latest.md go (default bench/results)`

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean' },
    backends: { type: 'string', default: 'whispercpp,faster' },
    strategies: { type: 'string', default: 'prompt,context,hybrid,agreement' },
    noise: { type: 'string', default: 'clean,20,10' },
    sentences: { type: 'string', default: '6' },
    'capacity-max': { type: 'string', default: '6' },
    compare: { type: 'string', default: '--beam-size 1|--beam-size 5' },
    'skip-engine': { type: 'boolean' },
    'skip-scale': { type: 'boolean' },
    'scale-max-sessions': { type: 'string', default: '8' },
    'long-minutes': { type: 'string', default: '10' },
    'revise-ms': { type: 'string', default: '28000' },
    'server-log': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('results', import.meta.url)) },
    help: { type: 'boolean', short: 'h' },
  },
})
if (args.help) {
  console.log(HELP)
  process.exit(0)
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_CLI = `${ROOT}packages/server/dist/cli.js`
const SR = 16_000
const HANGOVER_MS = 200 // the WebRTC VAD's segmenter default
const smoke = Boolean(args.smoke)
const backends = smoke ? ['whispercpp'] : args.backends.split(',')
const strategies = smoke ? ['prompt'] : args.strategies.split(',')
const noises = smoke ? ['clean'] : args.noise.split(',')
const sentences = smoke ? 2 : Number(args.sentences)
const capacityMax = smoke ? 0 : Number(args['capacity-max'])
const longMinutes = smoke ? 0 : Number(args['long-minutes'])

// ---- inputs ------------------------------------------------------------------------------

const harvard = loadSpeechFixtures(`${ROOT}fixtures/speech`, (f) => f.name.startsWith('harvard-'))
/** The fixtures joined by the gaps (cycled), with their utterances and reference text. */
function compose(fixtures, gaps) {
  const { audio, utterances } = composeUtterances(fixtures, gaps, { leadSeconds: 0.5, trailSeconds: 1.5 })
  return {
    audio,
    utterances,
    texts: fixtures.map((f) => f.text),
    reference: fixtures.map((f) => f.text).join(' '),
  }
}
function corpus(offset = 0) {
  const fixtures = Array.from({ length: sentences }, (_, i) => harvard[(i + offset) % harvard.length])
  return compose(fixtures, [0.3, 0.8, 2.0, 1.2, 0.5])
}
/** At least `minutes` of every speech fixture (both voices), repeated as needed, 0.3–2 s apart. */
function longCorpus(minutes) {
  const all = [
    ...harvard,
    ...loadSpeechFixtures(`${ROOT}fixtures/speech-slt`, () => true),
    ...loadSpeechFixtures(`${ROOT}fixtures/wer`, () => true),
  ]
  const gaps = [0.3, 0.8, 2.0, 1.2, 0.5, 1.6, 0.4]
  const fixtures = []
  // Composing keeps each fixture's speech, not its own leading and trailing silence.
  for (let seconds = 0; seconds < minutes * 60; ) {
    const f = all[fixtures.length % all.length]
    seconds += f.speechEnd - f.speechStart + gaps[fixtures.length % gaps.length]
    fixtures.push(f)
  }
  return compose(fixtures, gaps)
}
function withNoise(c, noise) {
  if (noise === 'clean') return c.audio
  return mixAtSnr(c.audio, Number(noise), { regions: c.utterances, seed: 7 }).mixed
}

// ---- statistics --------------------------------------------------------------------------

const quantile = (xs, q) => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
const median = (xs) => quantile(xs, 0.5)
let seed = 12345
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
/** Ratio of medians B/A with a 95 % bootstrap interval. */
function bootstrapRatio(a, b, rounds = 2000) {
  const ratio = median(b) / median(a)
  const draws = []
  const pick = (xs) => Array.from(xs, () => xs[Math.floor(random() * xs.length)])
  for (let i = 0; i < rounds; i++) draws.push(median(pick(b)) / median(pick(a)))
  return { ratio, low: quantile(draws, 0.025), high: quantile(draws, 0.975) }
}
const wer = (reference, hypothesis) => corpusWordErrorRate([{ reference, hypothesis }])

/**
 * Reference word end times (stream seconds) of each sentence: an offline run with word
 * timestamps on the clean sentence alone, placed where the sentence is in the stream.
 */
async function referenceWordEnds(backend) {
  const out = []
  for (let k = 0; k < c.utterances.length; k++) {
    const f = harvard[k % harvard.length]
    const r = await backend.transcribe(f.audio, SR, { wordTimestamps: true })
    const at = c.utterances[k].start - f.speechStart
    out.push(r.segments.flatMap((s) => s.words ?? []).map((w) => at + w.end))
  }
  return out
}

/**
 * Whether the final that covers sentence k covers the next one too: the VAD heard no end of
 * speech in the pause between them (0.3 s, with the fixtures' own silence), so the final came
 * after the next sentence, and its latency counts from there, not from sentence k's end.
 */
function joinedToNext(c, k, start, end) {
  const next = c.utterances[k + 1]
  return next !== undefined && start <= next.end && end >= next.end - 0.05
}

/** Partial/final metrics of one utterance from its events (times in seconds of audio or wall). */
function utteranceMetrics(events, u, finalText, key, refEnds = []) {
  const finalWords = normalizedWords(finalText)
  const partials = events.filter((e) => e.type === 'partial')
  const n = finalWords.length
  const span = u.end - u.start
  // The i-th final word ends where the reference's proportional i-th word ends (the same
  // index when the counts agree); an even split of the sentence without a reference.
  const m = refEnds.length
  const wordEnd = (i) =>
    m > 0
      ? refEnds[Math.min(m - 1, Math.round((i * (m - 1)) / Math.max(1, n - 1)))]
      : u.start + ((i + 1) / Math.max(1, n)) * span
  const emission = []
  const commit = []
  const seen = new Array(n).fill(false)
  const committed = new Array(n).fill(false)
  let revisions = 0
  let partialWords = 0
  let previous = []
  for (const p of partials) {
    const words = normalizedWords(p[key.text])
    const stable = normalizedWords(p[key.stable] ?? '')
    partialWords += words.length
    let common = 0
    while (common < previous.length && common < words.length && previous[common] === words[common]) common++
    revisions += previous.length - common
    previous = words
    for (let i = 0; i < Math.min(n, words.length); i++) {
      if (!seen[i] && words[i] === finalWords[i]) {
        seen[i] = true
        emission.push(p.at - wordEnd(i))
      }
      if (!committed[i] && i < stable.length && stable[i] === finalWords[i]) {
        committed[i] = true
        commit.push(p.at - wordEnd(i))
      }
    }
  }
  return {
    firstPartial: partials.length > 0 ? partials[0].at - u.start : null,
    emission,
    commit,
    revisions,
    partialWords,
    committedText: partials.length > 0 ? (partials.at(-1)[key.stable] ?? '') : '',
  }
}

// ---- virtual mode ------------------------------------------------------------------------

async function makeBackend(name) {
  if (name === 'faster') {
    const { FasterWhisperBackend } = await import('@ws/backend-faster')
    const b = new FasterWhisperBackend({ beamSize: 1 })
    await b.loadModel('tiny.en')
    return b
  }
  const { WhisperCppBackend } = await import('@ws/backend-whispercpp')
  const b = new WhisperCppBackend({ beamSize: 1 })
  await b.loadModel('tiny.en')
  return b
}

/** Counts calls in flight so the virtual clock can wait for them. */
function tracked(backend) {
  let inFlight = 0
  const wrapper = {
    name: backend.name,
    loadModel: (m) => backend.loadModel(m),
    close: () => backend.close(),
    async transcribe(...a) {
      inFlight++
      try {
        return await backend.transcribe(...a)
      } finally {
        inFlight--
      }
    },
  }
  const settle = async () => {
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setImmediate(r))
      if (inFlight > 0) {
        quiet = 0
        await new Promise((r) => setTimeout(r, 1))
      } else quiet++
    }
  }
  return { wrapper, settle }
}

/** The transcript once each revision replaced the finals it names (session or wire events). */
function revisedText(events) {
  const id = (e) => e.utteranceId ?? e.utterance_id
  const at = new Map()
  const covered = new Set()
  for (const r of events.filter((e) => e.type === 'revision')) {
    const ids = r.utteranceIds ?? r.utterance_ids
    at.set(ids[0], r.text)
    for (const x of ids) covered.add(x)
  }
  return events
    .filter((e) => e.type === 'final')
    .flatMap((f) => (at.has(id(f)) ? [at.get(id(f))] : covered.has(id(f)) ? [] : [f.text]))
    .join(' ')
}

async function virtualRun(backend, strategy, audio, c, refs) {
  const { createVad } = await import('@ws/vad-webrtc')
  const { wrapper, settle } = tracked(backend)
  const session = new StreamingSession({
    backend: wrapper,
    strategy,
    vad: await createVad(),
    reviseMaxMs: Number(args['revise-ms']),
  })
  let now = 0
  const events = []
  const reading = (async () => {
    for await (const e of session) events.push({ ...e, at: now })
  })()
  const frame = 320
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < audio.length; i += frame) {
    session.pushAudio(audio.subarray(i, i + frame))
    now = Math.min(audio.length, i + frame) / SR
    await settle()
  }
  await session.end()
  await reading
  const cpu = process.cpuUsage(cpu0)
  const finals = events.filter((e) => e.type === 'final')
  const text = finals.map((f) => f.text).join(' ')
  const per = c.utterances.map((u, k) => {
    const final = finals.find((f) => f.audioStart <= u.end && f.audioEnd >= u.end - 0.05)
    const own = events.filter((e) => e.type === 'partial' && final && e.utteranceId === final.utteranceId)
    const joined = final ? joinedToNext(c, k, final.audioStart, final.audioEnd) : false
    return {
      final,
      joined,
      finalLatency: final && !joined ? final.at - u.end : null,
      ...utteranceMetrics(own, u, final?.text ?? '', { text: 'text', stable: 'stable' }, refs[k]),
    }
  })
  return { text, revised: revisedText(events), per, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

// ---- real-time mode ----------------------------------------------------------------------

function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const ticks = Number(stat[11]) + Number(stat[12]) + Number(stat[13]) + Number(stat[14])
    const mb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024
    return { cpuSeconds: ticks / 100, peakRssMb: mb('VmHWM'), rssMb: mb('VmRSS') }
  } catch {
    return { cpuSeconds: 0, peakRssMb: 0, rssMb: 0 }
  }
}
function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

async function startServer(backend, extra = []) {
  const child = spawn(
    process.execPath,
    [
      SERVER_CLI,
      '--port',
      '0',
      '--backend',
      backend,
      '--max-clients',
      '64',
      '--max-load',
      '8',
      '--no-demo',
      '--revise-max-ms',
      args['revise-ms'],
      ...extra,
    ],
    {
      env: { ...process.env, LOG_LEVEL: args['server-log'] ? 'debug' : 'warn' },
      stdio: ['ignore', args['server-log'] ? openSync(args['server-log'], 'a') : 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString()
      const m = /streaming\s+(ws:\/\/[^/\s]+)/.exec(stderr)
      if (m) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.slice(-500)}`)))
  })
  return {
    url,
    pid: child.pid,
    stats: () => {
      const own = procStat(child.pid)
      const workers = children(child.pid).map(procStat)
      return {
        cpuSeconds: own.cpuSeconds + workers.reduce((a, w) => a + w.cpuSeconds, 0),
        serverRssMb: own.peakRssMb,
        workerRssMb: workers.reduce((a, w) => Math.max(a, w.peakRssMb), 0),
      }
    },
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

async function realtimeClient(url, strategy, audio, c, refs = []) {
  const ws = new WebSocket(`${url}/ws/transcribe/${strategy}`)
  const events = []
  const started = performance.now()
  const wall = () => (performance.now() - started) / 1000
  ws.on('message', (d) => events.push({ ...JSON.parse(d.toString()), at: wall() }))
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const t0 = performance.now()
  for (let i = 0; i < audio.length; i += 320) {
    ws.send(encodePcm16le(audio.subarray(i, i + 320)))
    const wait = t0 + ((i + 320) / SR) * 1000 - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  const closed = new Promise((r) => ws.on('close', r))
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  // Audio time t was sent at wall time t0 + t (offset from `started`).
  const offset = (t0 - started) / 1000
  const finals = events.filter((e) => e.type === 'final')
  const per = c.utterances.map((u, k) => {
    const final = finals.find((f) => f.audio_start <= u.end && f.audio_end >= u.end - 0.05)
    const own = events
      .filter((e) => e.type === 'partial' && final && e.utterance_id === final.utterance_id)
      .map((e) => ({ ...e, at: e.at - offset }))
    const joined = final ? joinedToNext(c, k, final.audio_start, final.audio_end) : false
    return {
      final,
      joined,
      finalLatency: final && !joined ? final.at - offset - u.end : null,
      lag: own.map((p) => p.lag_s ?? 0),
      ...utteranceMetrics(own, u, final?.text ?? '', { text: 'text', stable: 'stable' }, refs[k]),
    }
  })
  return { text: finals.map((f) => f.text).join(' '), revised: revisedText(events), per }
}

async function realtimeRun(server, strategy, n, c, audio, refs = []) {
  const before = server.stats()
  const cpu0 = process.cpuUsage()
  const t = performance.now()
  const results = await Promise.all(
    Array.from({ length: n }, () => realtimeClient(server.url, strategy, audio, c, refs)),
  )
  const elapsed = (performance.now() - t) / 1000
  const cpu = process.cpuUsage(cpu0)
  const after = server.stats()
  return {
    results,
    audioSeconds: n * (audio.length / SR),
    serverCpuPerAudioSecond: (after.cpuSeconds - before.cpuSeconds) / (n * (audio.length / SR)),
    loadGeneratorCpuPerWallSecond: (cpu.user + cpu.system) / 1e6 / elapsed,
    serverRssMb: after.serverRssMb,
    workerRssMb: after.workerRssMb,
  }
}

// ---- long-form mode ----------------------------------------------------------------------

/**
 * One real-time `prompt` session over the long-form input: per minute of audio, the finals'
 * latency (p50, p95), the partials' lag and the resident memory of the server (and worker).
 */
async function longRun(server, backendName, lc, offlineText) {
  const rss = []
  const started = performance.now()
  const sampler = setInterval(() => {
    const pids = [server.pid, ...children(server.pid)]
    rss.push({
      at: (performance.now() - started) / 1000,
      mb: pids.reduce((a, p) => a + procStat(p).rssMb, 0),
    })
  }, 5000)
  const run = await realtimeRun(server, 'prompt', 1, lc, lc.audio)
  clearInterval(sampler)
  const { per, text, revised } = run.results[0]
  // Each final slower than 1 s after its speech ended, with what it covered and cost.
  const slow = per
    .map((p, k) => ({ p, u: lc.utterances[k] }))
    .filter(({ p }) => p.finalLatency !== null && p.finalLatency > 1)
    .map(({ p, u }) => ({
      speechEndS: round(u.end, 1),
      latencyMs: ms(p.finalLatency),
      processingMs: p.final.processing_time_ms,
      audioS: round(p.final.audio_end - p.final.audio_start, 1),
      text: p.final.text,
    }))
  const minutes = Math.ceil(lc.audio.length / SR / 60)
  const series = Array.from({ length: minutes }, (_, m) => {
    const own = per.filter((_p, k) => Math.floor(lc.utterances[k].end / 60) === m)
    const finals = own.map((p) => p.finalLatency).filter((x) => x !== null)
    const lags = own.flatMap((p) => p.lag)
    const inMinute = rss.filter((r) => Math.floor(r.at / 60) === m)
    return {
      minute: m + 1,
      finals: finals.length,
      joined: own.filter((p) => p.joined).length,
      missing: own.filter((p) => !p.final).length,
      finalP50Ms: ms(median(finals)),
      finalP95Ms: ms(quantile(finals, 0.95)),
      lagP50Ms: ms(median(lags)),
      lagMaxMs: ms(lags.length ? Math.max(...lags) : null),
      rssMb: round(inMinute.at(-1)?.mb ?? null),
    }
  })
  const row = {
    backend: backendName,
    strategy: 'prompt',
    audioSeconds: round(lc.audio.length / SR),
    sentences: lc.utterances.length,
    werFinals: round(wer(lc.reference, text) * 100, 1),
    werOffline: round(wer(lc.reference, offlineText) * 100, 1),
    werFinalsVsOffline: round(wer(offlineText, text) * 100, 1),
    werRevised: round(wer(lc.reference, revised) * 100, 1),
    werRevisedVsOffline: round(wer(offlineText, revised) * 100, 1),
    serverCpuPerAudioSecond: round(run.serverCpuPerAudioSecond, 3),
    series,
    slowFinals: slow,
  }
  console.error(`long ${backendName}: ${JSON.stringify(row)}`)
  return row
}

// ---- the run -----------------------------------------------------------------------------

const round = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(d)))
const ms = (s) => (s === null ? null : round(s * 1000))
const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model?.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  command: `node bench/stream.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  input: { sentences, noises, model: 'tiny.en', vad: 'webrtc', hangoverMs: HANGOVER_MS },
  virtual: [],
  realtime: [],
  capacity: [],
  compare: null,
  engine: null,
}
const c = corpus()
const audioSeconds = c.audio.length / SR
const long = longMinutes > 0 ? longCorpus(longMinutes) : null
report.long = []
console.error(`# ${report.machine}; ${sentences} sentences, ${audioSeconds.toFixed(1)} s of audio`)

for (const backendName of backends) {
  const backend = await makeBackend(backendName)
  const refs = await referenceWordEnds(backend)
  // The same model offline on the whole long-form audio (30 s windows, each conditioned on the
  // text before it): what streaming is measured against, apart from the model's own errors.
  const offline = {}
  const offlineText = {}
  for (const noise of noises) {
    offlineText[noise] = (await backend.transcribe(withNoise(c, noise), SR)).text
    offline[noise] = wer(c.reference, offlineText[noise])
  }
  for (const strategy of strategies) {
    for (const noise of noises) {
      const run = await virtualRun(backend, strategy, withNoise(c, noise), c, refs)
      const per = run.per
      const committed = per.map((p) => p.committedText).join(' ')
      const row = {
        backend: backendName,
        strategy,
        noise,
        werFinals: round(wer(c.reference, run.text) * 100, 1),
        werOffline: round(offline[noise] * 100, 1),
        werFinalsVsOffline: round(wer(offlineText[noise], run.text) * 100, 1),
        werRevised: round(wer(c.reference, run.revised) * 100, 1),
        werRevisedVsOffline: round(wer(offlineText[noise], run.revised) * 100, 1),
        werCommitted: strategy === 'agreement' ? round(wer(c.reference, committed) * 100, 1) : null,
        firstPartialP50Ms: ms(median(per.map((p) => p.firstPartial).filter((x) => x !== null))),
        wordEmissionP50Ms: ms(median(per.flatMap((p) => p.emission))),
        wordCommitP50Ms: strategy === 'agreement' ? ms(median(per.flatMap((p) => p.commit))) : null,
        finalAfterSpeechP50Ms: ms(median(per.map((p) => p.finalLatency).filter((x) => x !== null))),
        revisionsPer100Words: round(
          (100 * per.reduce((a, p) => a + p.revisions, 0)) /
            Math.max(
              1,
              per.reduce((a, p) => a + p.partialWords, 0),
            ),
          1,
        ),
        cpuSecondsPerAudioSecond: round(run.cpuSeconds / audioSeconds, 3),
      }
      report.virtual.push(row)
      console.error(`virtual ${backendName} ${strategy} ${noise}: ${JSON.stringify(row)}`)
    }
  }
  const longOffline = long ? (await backend.transcribe(long.audio, SR)).text : ''
  await backend.close()

  // Real time, one session per strategy, clean speech.
  const server = await startServer(backendName)
  for (const strategy of strategies) {
    const run = await realtimeRun(server, strategy, 1, c, c.audio, refs)
    const per = run.results[0].per
    const finals = per.map((p) => p.finalLatency).filter((x) => x !== null)
    const row = {
      backend: backendName,
      strategy,
      werFinals: round(wer(c.reference, run.results[0].text) * 100, 1),
      firstPartialP50Ms: ms(median(per.map((p) => p.firstPartial).filter((x) => x !== null))),
      partialLagP50Ms: ms(median(per.flatMap((p) => p.lag))),
      wordEmissionP50Ms: ms(median(per.flatMap((p) => p.emission))),
      wordCommitP50Ms: strategy === 'agreement' ? ms(median(per.flatMap((p) => p.commit))) : null,
      finalAfterSpeechP50Ms: ms(median(finals)),
      finalAfterSpeechP95Ms: ms(quantile(finals, 0.95)),
      sentencesJoined: per.filter((p) => p.joined).length,
      finalLessHangoverP50Ms: ms(median(finals) === null ? null : median(finals) - HANGOVER_MS / 1000),
      revisionsPer100Words: round(
        (100 * per.reduce((a, p) => a + p.revisions, 0)) /
          Math.max(
            1,
            per.reduce((a, p) => a + p.partialWords, 0),
          ),
        1,
      ),
      serverCpuPerAudioSecond: round(run.serverCpuPerAudioSecond, 3),
      loadGeneratorCpu: round(run.loadGeneratorCpuPerWallSecond, 3),
      serverRssMb: round(run.serverRssMb),
      workerRssMb: round(run.workerRssMb),
    }
    report.realtime.push(row)
    console.error(`realtime ${backendName} ${strategy}: ${JSON.stringify(row)}`)
  }
  // Capacity: the largest N whose p95 final latency stays under 1 s with no growing backlog.
  if (capacityMax > 0) {
    let capacity = 0
    for (let n = 1; n <= capacityMax; n++) {
      const run = await realtimeRun(server, 'prompt', n, c, c.audio)
      const finals = run.results.flatMap((r) => r.per.map((p) => p.finalLatency)).filter((x) => x !== null)
      const lags = run.results.flatMap((r) => r.per.flatMap((p) => p.lag))
      const p95 = quantile(finals, 0.95)
      // A growing backlog shows as partial lag rising from the first half of the run to the second.
      const half = Math.floor(lags.length / 2)
      const growing =
        lags.length > 4 && median(lags.slice(half)) > 2 * (median(lags.slice(0, half)) ?? 0) + 0.5
      const ok = p95 !== null && p95 < 1 && !growing
      report.capacity.push({
        backend: backendName,
        sessions: n,
        finalP50Ms: ms(median(finals)),
        finalP95Ms: ms(p95),
        growingBacklog: growing,
        werFinals: round(
          corpusWordErrorRate(run.results.map((r) => ({ reference: c.reference, hypothesis: r.text }))) * 100,
          1,
        ),
        serverCpuPerAudioSecond: round(run.serverCpuPerAudioSecond, 3),
      })
      console.error(`capacity ${backendName} N=${n}: p95 ${ms(p95)} ms${growing ? ', backlog growing' : ''}`)
      if (ok) capacity = n
      else if (n > capacity + 1) break
    }
    report.capacity.push({ backend: backendName, capacity })
  }
  if (long) report.long.push(await longRun(server, backendName, long, longOffline))
  await server.stop()
}

// A/B: two server configurations, interleaved A B B A, one real-time session each.
if (!smoke && args.compare) {
  const [a, b] = args.compare.split('|').map((s) => s.trim().split(/\s+/).filter(Boolean))
  const samples = { A: { latency: [], wer: [], cpu: [] }, B: { latency: [], wer: [], cpu: [] } }
  for (const label of ['A', 'B', 'B', 'A']) {
    const server = await startServer(backends[0], label === 'A' ? a : b)
    const run = await realtimeRun(server, 'prompt', 1, c, c.audio)
    await server.stop()
    const r = run.results[0]
    samples[label].latency.push(...r.per.map((p) => p.finalLatency).filter((x) => x !== null))
    samples[label].wer.push(...r.per.map((p, i) => wer(c.texts[i], p.final?.text ?? '')))
    samples[label].cpu.push(run.serverCpuPerAudioSecond)
  }
  const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length
  const latency = bootstrapRatio(samples.A.latency, samples.B.latency)
  report.compare = {
    backend: backends[0],
    A: a.join(' '),
    B: b.join(' '),
    finalLatencyP50Ms: { A: ms(median(samples.A.latency)), B: ms(median(samples.B.latency)) },
    finalLatencyP95Ms: { A: ms(quantile(samples.A.latency, 0.95)), B: ms(quantile(samples.B.latency, 0.95)) },
    serverCpuPerAudioSecond: { A: round(mean(samples.A.cpu), 3), B: round(mean(samples.B.cpu), 3) },
    finalLatencyRatio: {
      ratio: round(latency.ratio, 2),
      low: round(latency.low, 2),
      high: round(latency.high, 2),
    },
    werPerSentenceMean: {
      A: round((100 * samples.A.wer.reduce((x, y) => x + y, 0)) / samples.A.wer.length, 1),
      B: round((100 * samples.B.wer.reduce((x, y) => x + y, 0)) / samples.B.wer.length, 1),
    },
  }
  console.error(`compare: ${JSON.stringify(report.compare)}`)
}

// whisper.cpp's engine: speed beside a CPU-bound process and beside another whisper.cpp, and a
// plain npm install from tarballs against the workspace build, same audio, same run.
if (!smoke && !args['skip-engine'] && backends.includes('whispercpp')) {
  const { measureContention } = await import('../packages/whispercpp-addon/bench/contention.mjs')
  const { installAndTranscribe, packTarballs, transcribeInWorkspace } = await import('./install.mjs')
  const contention = await measureContention()
  const packed = await packTarballs()
  const installed = await installAndTranscribe('npm', packed.tarballs)
  const workspace = await transcribeInWorkspace()
  report.engine = {
    contention,
    install: {
      manager: 'npm',
      source: installed.source,
      installSeconds: round(installed.installSeconds, 1),
      installedMs: ms(installed.ms / 1000),
      workspaceMs: ms(workspace.ms / 1000),
      ratio: round(installed.ms / workspace.ms, 2),
    },
  }
  console.error(`engine: ${JSON.stringify(report.engine)}`)
}

// ---- output ------------------------------------------------------------------------------

const cell = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`)
const md = [
  `# whisper-stream benchmark`,
  '',
  `${report.date.slice(0, 10)} · ${report.machine} · \`${report.command}\` · tiny.en, WebRTC VAD (hangover ${HANGOVER_MS} ms), greedy decoding, revisions ${Number(args['revise-ms']) > 0 ? `in blocks of up to ${args['revise-ms']} ms` : 'off'} · ${sentences} sentences, ${audioSeconds.toFixed(1)} s`,
  '',
  '## Virtual clock (inference time not counted: policy latency and accuracy)',
  '',
  '| backend | strategy | noise | WER finals | WER offline | finals vs offline | WER revised | revised vs offline | WER committed | first partial p50 | word emission p50 | word commit p50 | final after speech p50 | partial rewrites /100 words | CPU s / audio s |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...report.virtual.map(
    (r) =>
      `| ${r.backend} | ${r.strategy} | ${r.noise === 'clean' ? 'clean' : `${r.noise} dB`} | ${cell(r.werFinals, ' %')} | ${cell(r.werOffline, ' %')} | ${cell(r.werFinalsVsOffline, ' %')} | ${cell(r.werRevised, ' %')} | ${cell(r.werRevisedVsOffline, ' %')} | ${cell(r.werCommitted, ' %')} | ${cell(r.firstPartialP50Ms, ' ms')} | ${cell(r.wordEmissionP50Ms, ' ms')} | ${cell(r.wordCommitP50Ms, ' ms')} | ${cell(r.finalAfterSpeechP50Ms, ' ms')} | ${cell(r.revisionsPer100Words)} | ${cell(r.cpuSecondsPerAudioSecond)} |`,
  ),
  '',
  'CPU is this process: it includes whisper.cpp (in process) but not the faster-whisper worker (a Python process); the real-time tables count both.',
  '',
  '## Real time, one session, clean speech',
  '',
  '| backend | strategy | WER finals | first partial p50 | partial lag p50 | word emission p50 | word commit p50 | final after speech p50 / p95 | sentences joined | less hangover p50 | partial rewrites /100 words | server CPU s / audio s | server RSS | worker RSS | load generator CPU |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...report.realtime.map(
    (r) =>
      `| ${r.backend} | ${r.strategy} | ${cell(r.werFinals, ' %')} | ${cell(r.firstPartialP50Ms, ' ms')} | ${cell(r.partialLagP50Ms, ' ms')} | ${cell(r.wordEmissionP50Ms, ' ms')} | ${cell(r.wordCommitP50Ms, ' ms')} | ${cell(r.finalAfterSpeechP50Ms)} / ${cell(r.finalAfterSpeechP95Ms, ' ms')} | ${cell(r.sentencesJoined)} | ${cell(r.finalLessHangoverP50Ms, ' ms')} | ${cell(r.revisionsPer100Words)} | ${cell(r.serverCpuPerAudioSecond)} | ${cell(r.serverRssMb, ' MB')} | ${cell(r.workerRssMb || null, ' MB')} | ${cell(r.loadGeneratorCpu)} |`,
  ),
  '',
  'Final after speech counts from the end of the last sentence a final covers: a sentence the VAD joined to the next (it heard no end of speech in the pause between them) has its final after the next one, counted under "sentences joined".',
]
if (report.capacity.length > 0) {
  md.push(
    '',
    '## Capacity (prompt strategy, real-time sessions, p95 final latency under 1 s, no growing backlog)',
    '',
    '| backend | sessions | final p50 | final p95 | backlog growing | WER finals | server CPU s / audio s |',
    '|---|---:|---:|---:|---|---:|---:|',
    ...report.capacity
      .filter((r) => r.sessions !== undefined)
      .map(
        (r) =>
          `| ${r.backend} | ${r.sessions} | ${cell(r.finalP50Ms, ' ms')} | ${cell(r.finalP95Ms, ' ms')} | ${r.growingBacklog ? 'yes' : 'no'} | ${cell(r.werFinals, ' %')} | ${cell(r.serverCpuPerAudioSecond)} |`,
      ),
    '',
    ...report.capacity
      .filter((r) => r.capacity !== undefined)
      .map((r) => `Capacity of ${r.backend}: **${r.capacity}** sessions.`),
  )
}
for (const r of report.long) {
  const first = r.series.find((x) => x.rssMb)?.rssMb
  const last = r.series.findLast((x) => x.rssMb)?.rssMb
  md.push(
    '',
    `## Long form, real time: ${r.backend}, ${r.strategy}, ${Math.round(r.audioSeconds / 60)} min (${r.sentences} sentences, two voices, 0.3–2 s pauses)`,
    '',
    `WER of the finals ${r.werFinals} %, of the same model offline on the whole audio ${r.werOffline} %, finals against that offline transcript ${r.werFinalsVsOffline} %; after revisions ${r.werRevised} % (${r.werRevisedVsOffline} % against offline); server CPU ${r.serverCpuPerAudioSecond} s per audio s; resident memory ${first} → ${last} MB.`,
    '',
    '| minute | finals | sentences joined to the next | without a final | final p50 | final p95 | partial lag p50 | partial lag max | RSS |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.series.map(
      (x) =>
        `| ${x.minute} | ${x.finals} | ${x.joined} | ${x.missing} | ${cell(x.finalP50Ms, ' ms')} | ${cell(x.finalP95Ms, ' ms')} | ${cell(x.lagP50Ms, ' ms')} | ${cell(x.lagMaxMs, ' ms')} | ${cell(x.rssMb, ' MB')} |`,
    ),
  )
  if (r.slowFinals?.length) {
    md.push(
      '',
      'Finals over 1 s after the speech (trace one with `--server-log`):',
      '',
      '| speech end | latency | processing | audio | text |',
      '|---:|---:|---:|---:|---|',
      ...r.slowFinals.map(
        (f) => `| ${f.speechEndS} s | ${f.latencyMs} ms | ${f.processingMs} ms | ${f.audioS} s | ${f.text} |`,
      ),
    )
  }
}
if (report.compare) {
  const k = report.compare
  md.push(
    '',
    `## A/B, interleaved A B B A (${k.backend}, prompt, one real-time session)`,
    '',
    `A = \`${k.A}\`, B = \`${k.B}\`: final latency p50 ${k.finalLatencyP50Ms.A} ms vs ${k.finalLatencyP50Ms.B} ms, ratio B/A ${k.finalLatencyRatio.ratio} (95 % bootstrap ${k.finalLatencyRatio.low}–${k.finalLatencyRatio.high}); p95 ${k.finalLatencyP95Ms.A} vs ${k.finalLatencyP95Ms.B} ms; server CPU s per audio s ${k.serverCpuPerAudioSecond.A} vs ${k.serverCpuPerAudioSecond.B}; mean sentence WER of the finals ${k.werPerSentenceMean.A} % vs ${k.werPerSentenceMean.B} %.`,
  )
}
if (report.engine) {
  const { contention: k, install: i } = report.engine
  md.push(
    '',
    '## whisper.cpp engine',
    '',
    `CPU shared: ${k.audioSeconds} s of speech (tiny.en, beam 5, reduced window) took ${k.aloneMs} ms alone, ${k.besideBusyLoopMs} ms beside one CPU-bound process (×${k.slowdownBusyLoop}), ${k.besideWhisperMs} ms beside another whisper.cpp process (×${k.slowdownWhisper}).`,
    '',
    `Installed as a user would (${i.manager}, tarballs, default settings; binary: ${i.source}; install ${i.installSeconds} s): ten sentences in ${i.installedMs} ms against ${i.workspaceMs} ms for the workspace build, ratio ${i.ratio}.`,
  )
}
// Scale-out, in its own process (it starts replicas and HAProxy): its tables join this report.
if (!smoke && !args['skip-scale']) {
  const out = `${args.out}/scale`
  const run = spawnSync(
    process.execPath,
    [
      fileURLToPath(new URL('scale.mjs', import.meta.url)),
      '--out',
      out,
      '--max-sessions',
      args['scale-max-sessions'],
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  if (run.status === 0) {
    report.scale = JSON.parse(readFileSync(`${out}/latest.json`, 'utf8'))
    // Its tables under one heading (its own title and date line left out: they are this run's).
    const lines = readFileSync(`${out}/latest.md`, 'utf8').trim().split('\n').slice(3)
    md.push('', '## Scale-out (bench/scale.mjs)', ...lines.map((l) => l.replace(/^## /, '### ')))
  } else console.error(`bench/scale.mjs failed (exit ${run.status})`)
}
mkdirSync(args.out, { recursive: true })
writeFileSync(`${args.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
