// Wyoming speech-to-text side by side: this server's Wyoming port against the incumbent,
// wyoming-faster-whisper (bench/wyoming-faster-whisper.requirements.txt), same speech, same tiny.en.
//
//   node bench/wyoming.mjs [--clips 25] [--speed 1] [--tail-ms 700] [--beam-size <n>] [--arms …]
//
// Each clip (one real English utterance) goes as Home Assistant sends a command: one connection,
// `transcribe` (en), `audio-start`, 100 ms `audio-chunk`s (16 kHz 16-bit mono) at `--speed`× real
// time, `--tail-ms` of silence (Home Assistant's VAD waits 0.7 s by default), `audio-stop`. Per
// server, one after the other (started, `describe` answered, one warm-up clip, measured, stopped):
// `audio-stop` → `transcript` p50 / p95 / max, WER, CPU seconds of the server and its children
// (/proc) per audio second, and for ours the first `transcript-chunk` relative to `audio-stop`
// (negative: before it). Writes bench/results/wyoming/latest.{json,md}.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensurePythonEnv } from '@ws/backend-faster'
import { corpusWordErrorRate, encodePcm16le } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { resolveCt2Model, resolveGgmlModel } from '@ws/models'
import { encodeWyomingEvent, WyomingFrameParser } from '@ws/server'
import { children, procStat, ROOT, spawnServer } from './lib/server-process.mjs'
import { quantile, round } from './lib/stats.mjs'

const HELP = `Usage: node bench/wyoming.mjs [options]
  --clips <n>          real English utterances (≤ 8 s each) to send, spread over the corpus (25)
  --speed <x>          × real time the audio is sent at (1; 0: at once)
  --tail-ms <ms>       silence sent after the speech, before audio-stop (700)
  --beam-size <n>      the decoder beam of every arm (default: each server's own default,
                       ours 1 (greedy), wyoming-faster-whisper 5 on x86)
  --arms <list>        whispercpp,faster,wyoming-faster-whisper (all three)
  --out <dir>          default bench/results/wyoming
  -h, --help`

const { values: a } = parseArgs({
  options: {
    clips: { type: 'string', default: '25' },
    speed: { type: 'string', default: '1' },
    'tail-ms': { type: 'string', default: '700' },
    'beam-size': { type: 'string' },
    arms: { type: 'string', default: 'whispercpp,faster,wyoming-faster-whisper' },
    out: { type: 'string', default: 'bench/results/wyoming' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (a.help) {
  console.log(HELP)
  process.exit(0)
}

const THEIRS = 'wyoming-faster-whisper'
const THEIR_REQUIREMENTS = join(ROOT, 'bench/wyoming-faster-whisper.requirements.txt')
/** A package's pinned version in a requirements file. */
const pin = (file, name) => new RegExp(`^${name}==(\\S+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1]
const THEIR_VERSION = pin(THEIR_REQUIREMENTS, THEIRS)
const ARMS = {
  whispercpp: { label: 'ours, whisper.cpp tiny.en', backend: 'whispercpp' },
  faster: { label: 'ours, faster-whisper tiny.en int8', backend: 'faster' },
  [THEIRS]: { label: `wyoming-faster-whisper ${THEIR_VERSION}, tiny.en int8` },
}
const arms = a.arms.split(',').filter(Boolean)
for (const arm of arms) if (!ARMS[arm]) throw new Error(`unknown arm ${arm}; see --help`)
const SPEED = Number(a.speed)
const TAIL_MS = Number(a['tail-ms'])
const BEAM = a['beam-size']
const SR = 16_000
const CHUNK_BYTES = (SR / 10) * 2 // 100 ms of 16-bit mono
const FORMAT = { rate: SR, width: 2, channels: 1 }

// One command per connection, as Home Assistant sends: short single utterances (the long menus
// out), `--clips` of them evenly spread over the corpus; the warm-up is one not measured.
const pool = realSpeechFixtures('real-en').filter((f) => f.durationSeconds <= 8)
const n = Math.min(Number(a.clips), pool.length)
const picked = Array.from({ length: n }, (_, i) => Math.floor((i * pool.length) / n))
const clips = picked.map((i) => pool[i])
const warmup = pool.find((_, i) => !picked.includes(i)) ?? clips[0]
const pcmOf = (f) =>
  Buffer.concat([Buffer.from(encodePcm16le(f.audio)), Buffer.alloc(Math.round((TAIL_MS / 1000) * SR) * 2)])
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- Wyoming over TCP, with the server's own framing (`@ws/server`'s `encodeWyomingEvent`).

const frame = (type, data = {}, payload) => encodeWyomingEvent({ type, data, payload })

/** A socket's bytes → events `{ type, data, at }` (at: performance.now() when its bytes came). */
function reader(onEvent) {
  const parser = new WyomingFrameParser()
  return (bytes) => {
    const at = performance.now()
    for (const { type, data } of parser.push(bytes)) onEvent({ type, data, at })
  }
}

/** One connection: runs `send`, collects the events back until `until`, the close or the timeout. */
async function exchange(port, send, until, timeoutMs) {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  const got = []
  let finish
  const finished = new Promise((resolve) => {
    finish = resolve
  })
  const onEvent = (e) => got.push(e) && until(e) && finish()
  socket.on('data', reader(onEvent))
  for (const end of ['close', 'error']) socket.on(end, () => finish())
  const timer = setTimeout(() => finish(), timeoutMs)
  try {
    await Promise.race([once(socket, 'connect'), finished])
    if (!socket.destroyed) await send(socket)
    await finished
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
  return got
}

/** `describe` → `info`, retried until the server answers (it may still be loading its model). */
async function waitForInfo(port, alive, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    alive()
    const isInfo = (e) => e.type === 'info'
    const info = (await exchange(port, (s) => s.write(frame('describe')), isInfo, 5000)).find(isInfo)
    if (info) return info.data
    await sleep(500)
  }
  throw new Error(`no info from port ${port} in ${timeoutMs / 1000} s`)
}

/** One clip as one command: its transcript, and when each answer came relative to audio-stop. */
async function transcribe(port, pcm) {
  let stopAt
  const timeoutMs = (SPEED > 0 ? (pcm.length / 2 / SR / SPEED) * 1000 : 0) + 120_000
  const got = await exchange(
    port,
    async (socket) => {
      socket.write(frame('transcribe', { language: 'en' }))
      socket.write(frame('audio-start', FORMAT))
      const started = performance.now()
      for (let i = 0, k = 0; i < pcm.length; i += CHUNK_BYTES, k++) {
        if (socket.destroyed) return
        socket.write(frame('audio-chunk', FORMAT, pcm.subarray(i, i + CHUNK_BYTES)))
        const wait = SPEED > 0 ? started + ((k + 1) * 100) / SPEED - performance.now() : 0
        if (wait > 0) await sleep(wait)
      }
      socket.write(frame('audio-stop'))
      stopAt = performance.now()
    },
    (e) => e.type === 'transcript-stop' || e.type === 'error',
    timeoutMs,
  )
  const transcript = got.find((e) => e.type === 'transcript')
  const chunk = got.find((e) => e.type === 'transcript-chunk')
  const error = got.find((e) => e.type === 'error')
  return {
    text: transcript?.data.text ?? '',
    latencyMs: transcript && stopAt !== undefined ? round(transcript.at - stopAt, 1) : null,
    firstChunkMs: chunk && stopAt !== undefined ? round(chunk.at - stopAt, 1) : null,
    chunks: got.filter((e) => e.type === 'transcript-chunk').length,
    ...(error ? { error: `${error.data.code}: ${error.data.text}` } : {}),
  }
}

// --- The servers.

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  s.close()
  await once(s, 'close')
  return port
}

/** A process and its descendants, now. */
function tree(pid) {
  return [pid, ...children(pid).flatMap(tree)]
}
/** CPU seconds of a process and its descendants (live ones, and those it waited for). */
const cpuOf = (pid) => tree(pid).reduce((s, p) => s + procStat(p).cpuSeconds, 0)

async function startOurs(backend, port) {
  const args = ['--backend', backend, '--wyoming-port', String(port), '--offline']
  if (BEAM) args.push('--beam-size', BEAM)
  const s = await spawnServer(args)
  return {
    pid: s.pid,
    command: `node packages/server/dist/cli.js --port 0 --no-demo ${args.join(' ').replace(`${port}`, '<port>')}`,
    alive: () => {},
    stop: s.stop,
  }
}

async function startTheirs(port, ct2Dir) {
  const env = await ensurePythonEnv({
    name: THEIRS,
    requirementsFile: THEIR_REQUIREMENTS,
    onProgress: (p) => console.error(`${THEIRS} venv: ${p.message}`),
  })
  const dataDir = mkdtempSync(join(tmpdir(), 'ws-wfw-'))
  // A local CTranslate2 directory as --model (faster-whisper loads a path as it is), nothing
  // downloaded; its default VAD filter (off), beam (5 on x86, unless --beam-size) and language en.
  const args = [
    ...['-m', 'wyoming_faster_whisper', '--uri', `tcp://127.0.0.1:${port}`, '--model', ct2Dir],
    ...['--data-dir', dataDir, '--local-files-only', '--stt-library', 'faster-whisper', '--device', 'cpu'],
    ...['--compute-type', 'int8', '--beam-size', BEAM ?? '5', '--cpu-threads', String(cpus().length)],
    ...['--language', 'en'],
  ]
  const child = spawn(env.python, args, {
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  let exited = false
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  child.on('exit', () => {
    exited = true
  })
  return {
    pid: child.pid,
    command: `<venv>/bin/python ${args.join(' ')}`
      .replace(String(port), '<port>')
      .replace(ct2Dir, '<ct2 tiny.en dir>')
      .replace(dataDir, '<empty tmp dir>'),
    alive: () => {
      if (exited) throw new Error(`${THEIRS} exited: ${stderr.slice(-1000)}`)
    },
    stop: async () => {
      if (!exited) {
        const gone = once(child, 'exit')
        child.kill('SIGTERM')
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await gone
        clearTimeout(killer)
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function runArm(arm, ct2Dir) {
  const port = await freePort()
  const server = arm === THEIRS ? await startTheirs(port, ct2Dir) : await startOurs(ARMS[arm].backend, port)
  const pids = new Set()
  try {
    const asr = (await waitForInfo(port, server.alive)).asr?.[0] ?? {}
    const program = { name: asr.name, version: asr.version, streams: asr.supports_transcript_streaming }
    const warm = await transcribe(port, pcmOf(warmup))
    console.error(`${arm}: ready (${program.name} ${program.version}); warm-up: ${JSON.stringify(warm.text)}`)
    for (const p of tree(server.pid)) pids.add(p)
    const cpu0 = cpuOf(server.pid)
    const per = []
    for (const clip of clips) {
      const pcm = pcmOf(clip)
      const r = await transcribe(port, pcm)
      for (const p of tree(server.pid)) pids.add(p)
      per.push({ name: clip.name, audioS: round(pcm.length / 2 / SR, 2), reference: clip.text, ...r })
      const l = r.latencyMs === null ? 'no transcript' : `${Math.round(r.latencyMs)} ms`
      console.error(`${arm} ${clip.name}: ${l}, ${JSON.stringify(r.text)}${r.error ? ` (${r.error})` : ''}`)
      await sleep(300)
    }
    const cpuS = cpuOf(server.pid) - cpu0
    return { arm, label: ARMS[arm].label, command: server.command, program, ...summary(per, cpuS), per }
  } finally {
    await server.stop()
    // Nothing of it may outlive it: its worker processes too.
    await sleep(1000)
    const left = [...pids].filter((p) => existsSync(`/proc/${p}`))
    if (left.length > 0) console.error(`${arm}: processes still running after stop: ${left.join(', ')}`)
  }
}

function summary(per, cpuS) {
  const ok = per.filter((r) => r.latencyMs !== null)
  const lat = ok.map((r) => r.latencyMs)
  const firsts = per.map((r) => r.firstChunkMs).filter((x) => x !== null)
  const audioS = per.reduce((s, r) => s + r.audioS, 0)
  const pairs = per.map((r) => ({ reference: r.reference, hypothesis: r.text }))
  return {
    clips: per.length,
    failed: per.length - ok.length,
    werPct: round(corpusWordErrorRate(pairs) * 100, 1),
    latencyP50Ms: round(quantile(lat, 0.5)),
    latencyP95Ms: round(quantile(lat, 0.95)),
    latencyMaxMs: lat.length ? round(Math.max(...lat)) : null,
    firstChunkP50Ms: round(quantile(firsts, 0.5)),
    chunksBeforeStop: firsts.filter((x) => x < 0).length,
    clipsWithChunks: firsts.length,
    audioS: round(audioS, 1),
    cpuS: round(cpuS, 2),
    cpuPerAudioS: round(cpuS / audioS, 3),
  }
}

// --- The run.

const started = new Date()
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const load0 = loadavg()
const ct2 = await resolveCt2Model('tiny.en', { offline: true })
const ggml = arms.includes('whispercpp') ? await resolveGgmlModel('tiny.en', { offline: true }) : undefined
const rows = []
for (const arm of arms) rows.push(await runArm(arm, ct2.dir))
const ended = new Date()
const load1 = loadavg()

const theirs = rows.find((r) => r.arm === THEIRS)
const ratio = (r, f) => (theirs?.[f] && r[f] !== null ? round(r[f] / theirs[f], 3) : null)
for (const r of rows) {
  const [latencyP50, latencyP95, cpuPerAudioS] = ['latencyP50Ms', 'latencyP95Ms', 'cpuPerAudioS'].map((f) =>
    ratio(r, f),
  )
  r.vsTheirs = {
    latencyP50,
    latencyP95,
    cpuPerAudioS,
    werPoints: theirs ? round(r.werPct - theirs.werPct, 1) : null,
  }
}
const ours = join(ROOT, 'packages/backend-faster/python/requirements.txt')
const engines = (file) =>
  `faster-whisper ${pin(file, 'faster-whisper')}, CTranslate2 ${pin(file, 'ctranslate2')}`
const ourBeam = BEAM ?? '1 (the server default: greedy)'
const result = {
  date: started.toISOString().slice(0, 10),
  startedUtc: started.toISOString(),
  endedUtc: ended.toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  loadavg: { start: load0, end: load1 },
  command: `node bench/wyoming.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  audio: `${clips.length} clips of real-en (≤ 8 s, one utterance each, ${clips.map((c) => c.name).join(', ')}), each + ${TAIL_MS} ms of silence, sent at ${SPEED}× real time in 100 ms chunks, 16 kHz 16-bit mono; warm-up clip ${warmup.name}`,
  models: {
    ct2: `tiny.en, CTranslate2 (${ct2.sourceLabel}), loaded as int8 by both faster-whisper arms`,
    ...(ggml ? { ggml: `ggml-tiny.en.bin (ggml f16 of the same OpenAI tiny.en weights), whisper.cpp` } : {}),
  },
  beams: { ours: ourBeam, [THEIRS]: BEAM ?? '5 (its default on x86)' },
  rows,
}
mkdirSync(a.out, { recursive: true })
writeFileSync(`${a.out}/latest.json`, `${JSON.stringify(result, null, 2)}\n`)

const cell = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`)
const lines = [
  '# Wyoming speech-to-text: this server against wyoming-faster-whisper',
  '',
  `Real English speech (one utterance per connection, as Home Assistant sends a command), the same tiny.en model. Latency: from \`audio-stop\` sent to \`transcript\` received. First chunk: the first \`transcript-chunk\` relative to \`audio-stop\` (negative: before it; ours streams them, wyoming-faster-whisper sends none). CPU: the server process and its children, per second of audio sent. Ratios: this arm / wyoming-faster-whisper in the same run.`,
  '',
  '| arm | clips | WER % | audio-stop → transcript p50 / p95 / max (ms) | first transcript-chunk vs audio-stop, p50 (ms) | CPU-s / audio-s | p50 latency × wfw | p95 latency × wfw | CPU × wfw | WER − wfw (points) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
]
for (const r of rows) {
  const first =
    r.arm === THEIRS || r.firstChunkP50Ms === null
      ? '–'
      : `${r.firstChunkP50Ms} (${r.chunksBeforeStop} of ${r.clips} before the stop)`
  lines.push(
    `| ${r.label} | ${r.clips}${r.failed ? ` (${r.failed} failed)` : ''} | ${r.werPct} | ${cell(r.latencyP50Ms)} / ${cell(r.latencyP95Ms)} / ${cell(r.latencyMaxMs)} | ${first} | ${r.cpuPerAudioS} | ${cell(r.vsTheirs.latencyP50)} | ${cell(r.vsTheirs.latencyP95)} | ${cell(r.vsTheirs.cpuPerAudioS)} | ${cell(r.vsTheirs.werPoints)} |`,
  )
}
lines.push(
  '',
  `- ${result.date}, ${result.startedUtc} – ${result.endedUtc} (UTC), ${result.machine}, load average ${load0} at the start, ${load1} at the end; \`${result.command}\``,
  `- Audio: ${result.audio}.`,
  ...rows.map((r) => `- ${r.label}: \`${r.command}\``),
  `- Models: the faster-whisper arms (ours: ${engines(ours)}; wyoming-faster-whisper: ${engines(THEIR_REQUIREMENTS)}) load the same local CTranslate2 tiny.en directory (${ct2.sourceLabel}), quantized to int8 at load${ggml ? `; whisper.cpp loads ggml-tiny.en.bin (f16), the same OpenAI weights in ggml's format` : ''}.`,
  `- Beams: ours ${ourBeam}; wyoming-faster-whisper ${result.beams[THEIRS]}. Threads: ours all ${cpus().length} cores (its default); wyoming-faster-whisper \`--cpu-threads ${cpus().length}\` (its default is 4).`,
  "- How they differ besides: ours segments the stream with its VAD (webrtc) and decodes each utterance as it ends (a final may be computed ahead in the silence before `audio-stop`; its faster-whisper worker decodes finals at temperature 0 with no fallback, whisper.cpp keeps its fallback on the full window); wyoming-faster-whisper writes the audio to a WAV and decodes all of it only after `audio-stop` (no VAD filter, faster-whisper's own transcribe with its temperature fallback).",
  '',
)
writeFileSync(`${a.out}/latest.md`, lines.join('\n'))
console.log(lines.join('\n'))
