// The runs: the backends in this process on a virtual clock, WebSocket clients at real-time
// pace against a server in a child process, and the long-form real-time session.
import { encodePcm16le, StreamingSession } from '@ws/core'
import WebSocket from 'ws'
import { SR } from './corpus.mjs'
import { joinedToNext, revisedText, utteranceMetrics, wer } from './metrics.mjs'
import { children, procStat } from './server-process.mjs'
import { median, ms, quantile, round } from './stats.mjs'

export { revisedText, utteranceMetrics } from './metrics.mjs'

/** The backend (`whispercpp` or `faster`) with tiny.en loaded, greedy decoding. */
export async function makeBackend(name) {
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

/**
 * Reference word end times (stream seconds) of each sentence: an offline run with word
 * timestamps on the clean sentence alone, placed where the sentence is in the stream. `fixtures`
 * are the ones the corpus `c` was composed from (cycled, from the first).
 */
export async function referenceWordEnds(backend, c, fixtures) {
  const out = []
  for (let k = 0; k < c.utterances.length; k++) {
    const f = fixtures[k % fixtures.length]
    const r = await backend.transcribe(f.audio, SR, { wordTimestamps: true })
    const at = c.utterances[k].start - f.speechStart
    out.push(r.segments.flatMap((s) => s.words ?? []).map((w) => at + w.end))
  }
  return out
}

// ---- virtual mode ------------------------------------------------------------------------

/** Counts calls in flight so the virtual clock can wait for them. */
export function tracked(backend) {
  let inFlight = 0
  const liveMs = []
  const wrapper = {
    name: backend.name,
    wordProbabilities: backend.wordProbabilities,
    loadModel: (m) => backend.loadModel(m),
    close: () => backend.close(),
    async transcribe(audio, rate, options = {}) {
      inFlight++
      const started = performance.now()
      try {
        return await backend.transcribe(audio, rate, options)
      } finally {
        inFlight--
        if (options.live) liveMs.push(performance.now() - started)
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
  return { wrapper, settle, liveMs }
}

/**
 * A StreamingSession in this process on a clock driven by the audio (each transcription
 * completes before more audio is pushed). `reviseMs`: the session's `reviseMaxMs`.
 */
export async function virtualRun(
  backend,
  strategy,
  audio,
  c,
  refs,
  { reviseMs = 28000, language, revisePromptChars, ...extra } = {},
) {
  const { createVad } = await import('@ws/vad-webrtc')
  const { wrapper, settle, liveMs } = tracked(backend)
  const session = new StreamingSession({
    backend: wrapper,
    strategy,
    vad: await createVad(),
    reviseMaxMs: Number(reviseMs),
    ...(language ? { language } : {}),
    ...(revisePromptChars === undefined ? {} : { revisePromptChars }),
    ...extra,
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
  return {
    text,
    finals,
    revised: revisedText(events),
    events,
    per,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    // `agreement`'s steps are decoded as finals too (their words are committed): its finals'
    // own time, not every live call's.
    finalDecodeMs: strategy === 'agreement' ? finals.map((f) => f.processingTimeMs) : liveMs,
  }
}

// ---- real-time mode ----------------------------------------------------------------------

/** One WebSocket session sending 20 ms frames at real-time pace; its metrics per utterance. */
export async function realtimeClient(url, strategy, audio, c, refs = []) {
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

/** N real-time clients against the server, started `staggerMs` apart; its CPU per audio second and memory. */
export async function realtimeRun(server, strategy, n, c, audio, refs = [], staggerMs = 0) {
  const before = server.stats()
  const cpu0 = process.cpuUsage()
  const t = performance.now()
  const results = await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      await new Promise((resolve) => setTimeout(resolve, k * staggerMs))
      return realtimeClient(server.url, strategy, audio, c, refs)
    }),
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
export async function longRun(server, backendName, lc, offlineText) {
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
