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
// The parts live in bench/lib/: corpus.mjs (inputs), clients.mjs (the runs), metrics.mjs,
// stats.mjs, server-process.mjs (the server as a child process), report.mjs (latest.md).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { corpusWordErrorRate } from '@ws/core'
import { longRun, makeBackend, realtimeRun, referenceWordEnds, virtualRun } from './lib/clients.mjs'
import { compareRun, DEFAULT_COMPARE } from './lib/compare.mjs'
import { corpus, harvardFixtures, longCorpus, realStreams, SR, withNoise } from './lib/corpus.mjs'
import { wer } from './lib/metrics.mjs'
import { markdownReport } from './lib/report.mjs'
import { startServer } from './lib/server-process.mjs'
import { median, ms, quantile, round } from './lib/stats.mjs'

const HELP = `Usage: node bench/stream.mjs [options]
  --smoke                 one configuration, short audio, no capacity search (for CI)
  --backends <list>       whispercpp,faster (default both)
  --strategies <list>     prompt,context,hybrid,agreement (default all)
  --noise <list>          clean,20,10 (default all; SNR in dB)
  --sentences <n>         sentences in the long-form input (default 6)
  --capacity-max <n>      largest N tried in the capacity search (default 6; 0 = skip)
  --capacity-stream <s>   the real English stream of the capacity search: 2min or 30s
                          (default 2min)
  --stagger-ms <ms>       between the capacity search's sessions' starts (default 1300)
  --compare <a|b>         two server flag sets compared A B B A in real time, per backend
                          (default "${DEFAULT_COMPARE}": revisions greedy against beam 5;
                          '' = skip)
  --compare-speech <s>    what the A/B streams: real-en (the real English streams, 30 s and
                          2 min; default) or synthetic (the espeak sentences of --sentences)
  --long-minutes <m>      the long-form run: a real-time prompt session of m minutes of the
                          speech fixtures (both voices) joined by 0.3-2 s of silence, per
                          minute (default 10; 0 = skip)
  --skip-scale            skip the scale-out part (bench/scale.mjs: the remote backend over
                          in process, sessions held by one replica and by two behind HAProxy)
  --scale-max-sessions <n>  the scale-out part's largest N (default 8)
  --skip-accuracy         skip the accuracy part (bench/accuracy.mjs: WER per corpus —
                          real English, Spanish, Dutch, synthetic — whole clips by window,
                          streams offline against finals and revisions per strategy)
  --skip-protocols        skip the drop-in protocols (bench/protocols.mjs: OpenAI Realtime
                          and Deepgram live through their official SDKs against the native
                          protocol on the same real speech: final latency and WER)
  --skip-models           skip the model table (bench/models.mjs: whisper.cpp models float16
                          and quantized: offline WER per corpus, one real-time session each)
  --skip-diarization      skip the diarization parts (bench/diarization.mjs and
                          bench/diarization-live.mjs: live DER and the latency cost; DER, speaker
                          count, speed and memory on conversations of real voices)
  --skip-soak             skip the soak and abuse run (bench/soak.mjs: live sessions beside
                          clients that vanish, flood, squat and upload; then bench/flood.mjs)
  --soak-minutes <m>      the soak run's length (default 20)
  --skip-engine-time      skip where the engine's time goes (bench/engine-time.mjs: 1 to 4 live
                          sessions of the real English 2-minute stream on the default server:
                          final latency, and engine, wait and CPU seconds by kind of request)
  --skip-non-speech       skip words where nobody spoke (bench/non-speech.mjs: the non-speech
                          set through each VAD, whole clips and live sessions per strategy:
                          invented words per minute)
  --skip-word-times       skip word times against the speech (bench/word-times.mjs: each
                          backend's word and segment times against real speech's onsets and
                          offsets, median and p90 error)
  --skip-wyoming          skip the Wyoming side-by-side (bench/wyoming.mjs: this server's
                          Wyoming port against wyoming-faster-whisper on real commands:
                          audio-stop to transcript, WER, CPU)
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
    'capacity-stream': { type: 'string', default: '2min' },
    'stagger-ms': { type: 'string', default: '1300' },
    compare: { type: 'string', default: DEFAULT_COMPARE },
    'compare-speech': { type: 'string', default: 'real-en' },
    'skip-engine': { type: 'boolean' },
    'skip-engine-time': { type: 'boolean' },
    'skip-non-speech': { type: 'boolean' },
    'skip-word-times': { type: 'boolean' },
    'skip-wyoming': { type: 'boolean' },
    'skip-scale': { type: 'boolean' },
    'scale-max-sessions': { type: 'string', default: '8' },
    'skip-soak': { type: 'boolean' },
    'skip-accuracy': { type: 'boolean' },
    'skip-protocols': { type: 'boolean' },
    'skip-models': { type: 'boolean' },
    'skip-diarization': { type: 'boolean' },
    'soak-minutes': { type: 'string', default: '20' },
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

if (!['real-en', 'synthetic'].includes(args['compare-speech'])) {
  console.error(`--compare-speech takes real-en or synthetic, got ${args['compare-speech']}`)
  process.exit(2)
}

const HANGOVER_MS = 200 // the WebRTC VAD's segmenter default
const smoke = Boolean(args.smoke)
const backends = smoke ? ['whispercpp'] : args.backends.split(',')
const strategies = smoke ? ['prompt'] : args.strategies.split(',')
const noises = smoke ? ['clean'] : args.noise.split(',')
const sentences = smoke ? 2 : Number(args.sentences)
const capacityMax = smoke ? 0 : Number(args['capacity-max'])
// Capacity is searched on real speech (people reading telephone prompts), sessions arriving
// a little apart as users do; espeak's one voice hid accuracy and timing losses.
const capacityStream =
  capacityMax > 0
    ? realStreams('real-en-long').find((s) => s.name.includes(args['capacity-stream']))
    : undefined
if (capacityMax > 0 && !capacityStream)
  throw new Error(`no real English stream named ${args['capacity-stream']}`)
const longMinutes = smoke ? 0 : Number(args['long-minutes'])

// The server's flags from this command line, for every server this run starts.
const serverOptions = { reviseMs: args['revise-ms'], serverLog: args['server-log'] }

// ---- the run -----------------------------------------------------------------------------

const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model?.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  command: `node bench/stream.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  input: {
    sentences,
    noises,
    model: 'tiny.en',
    vad: 'webrtc',
    hangoverMs: HANGOVER_MS,
    capacityStream: capacityStream
      ? `${capacityStream.name} (${(capacityStream.audio.length / SR).toFixed(1)} s)`
      : null,
    staggerMs: Number(args['stagger-ms']),
  },
  virtual: [],
  realtime: [],
  capacity: [],
  compare: [],
  engine: null,
}
const harvard = harvardFixtures()
const c = corpus(harvard, sentences)
const audioSeconds = c.audio.length / SR
const long = longMinutes > 0 ? longCorpus(longMinutes, harvard) : null
report.long = []
console.error(`# ${report.machine}; ${sentences} sentences, ${audioSeconds.toFixed(1)} s of audio`)

for (const backendName of backends) {
  const backend = await makeBackend(backendName)
  const refs = await referenceWordEnds(backend, c, harvard)
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
      const run = await virtualRun(backend, strategy, withNoise(c, noise), c, refs, {
        reviseMs: Number(args['revise-ms']),
      })
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
  // The same model offline on the capacity search's utterances, each decoded alone as a whole
  // clip (what a live final hears): the finals stay within a point of it.
  let capacityOffline = 0
  if (capacityMax > 0) {
    const texts = []
    for (const u of capacityStream.utterances) {
      const clip = capacityStream.audio.subarray(Math.round(u.start * SR), Math.round(u.end * SR))
      texts.push((await backend.transcribe(clip, SR)).text)
    }
    capacityOffline = wer(capacityStream.reference, texts.join(' '))
  }
  await backend.close()

  // Real time, one session per strategy, clean speech.
  const server = await startServer(backendName, [], serverOptions)
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
  // Capacity: the largest N whose p95 final latency stays under 1 s, whose finals stay within
  // a point of WER of the same model offline, with no growing backlog (revisions on).
  if (capacityMax > 0) {
    const cs = capacityStream
    let capacity = 0
    for (let n = 1; n <= capacityMax; n++) {
      const run = await realtimeRun(server, 'prompt', n, cs, cs.audio, [], Number(args['stagger-ms']))
      const finals = run.results.flatMap((r) => r.per.map((p) => p.finalLatency)).filter((x) => x !== null)
      const lags = run.results.flatMap((r) => r.per.flatMap((p) => p.lag))
      const p95 = quantile(finals, 0.95)
      // A growing backlog shows as partial lag rising from the first half of the run to the second.
      const half = Math.floor(lags.length / 2)
      const growing =
        lags.length > 4 && median(lags.slice(half)) > 2 * (median(lags.slice(0, half)) ?? 0) + 0.5
      const werOf = (pick) =>
        corpusWordErrorRate(run.results.map((r) => ({ reference: cs.reference, hypothesis: pick(r) })))
      const werFinals = werOf((r) => r.text)
      const ok = p95 !== null && p95 < 1 && !growing && werFinals <= capacityOffline + 0.01
      report.capacity.push({
        backend: backendName,
        sessions: n,
        finalP50Ms: ms(median(finals)),
        finalP95Ms: ms(p95),
        finalMaxMs: ms(Math.max(...finals)),
        growingBacklog: growing,
        werFinals: round(werFinals * 100, 1),
        werRevised: round(werOf((r) => r.revised) * 100, 1),
        werOffline: round(capacityOffline * 100, 1),
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

// A/B: two server configurations, interleaved A B B A, one real-time session each, per backend.
if (!smoke && args.compare) {
  const inputs = args['compare-speech'] === 'synthetic' ? [c] : realStreams('real-en-long')
  for (const backendName of backends) {
    const k = await compareRun(backendName, args.compare, inputs, serverOptions)
    report.compare.push(k)
    console.error(`compare: ${JSON.stringify(k)}`)
  }
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

const md = markdownReport(report, {
  hangoverMs: HANGOVER_MS,
  reviseMs: args['revise-ms'],
  sentences,
  audioSeconds,
})
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
// Accuracy per corpus; the drop-in protocols against the native one; the model table; the soak and abuse run,
// then a live session beside a 50× flooder; each in its own process.
if (!smoke) {
  const parts = [
    ...(args['skip-engine-time'] ? [] : [['engine-time', []]]),
    ...(args['skip-non-speech'] ? [] : [['non-speech', []]]),
    ...(args['skip-word-times'] ? [] : [['word-times', []]]),
    ...(args['skip-wyoming'] ? [] : [['wyoming', []]]),
    ...(args['skip-accuracy'] ? [] : [['accuracy', []]]),
    ...(args['skip-protocols'] ? [] : [['protocols', []]]),
    ...(args['skip-models'] ? [] : [['models', []]]),
    ...(args['skip-diarization']
      ? []
      : [
          ['diarization', ['--sweep']],
          ['diarization-live', []],
        ]),
    ...(args['skip-soak']
      ? []
      : [
          ['soak', ['--minutes', args['soak-minutes']]],
          ['flood', []],
        ]),
  ]
  for (const [script, extra] of parts) {
    const out = `${args.out}/${script}`
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(new URL(`${script}.mjs`, import.meta.url)), '--out', out, ...extra],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    if (run.status !== 0) console.error(`bench/${script}.mjs failed (exit ${run.status})`)
    const lines = readFileSync(`${out}/latest.md`, 'utf8').trim().split('\n').slice(1)
    md.push('', `## bench/${script}.mjs`, ...lines.map((l) => l.replace(/^## /, '### ')))
  }
}
mkdirSync(args.out, { recursive: true })
writeFileSync(`${args.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
