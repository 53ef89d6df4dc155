// The A/B part: two server flag sets, interleaved A B B A, one real-time `prompt` session over
// each input per slot. Latency and CPU as ratios of B to A; accuracy as the WER of each arm's
// finals and of its text once revisions replaced them, over all of that arm's runs.
import { corpusWordErrorRate } from '@ws/core'
import { realtimeRun } from './clients.mjs'
import { SR } from './corpus.mjs'
import { startServer } from './server-process.mjs'
import { bootstrapRatio, median, ms, quantile, round } from './stats.mjs'

/** The default comparison: revisions decoded greedily against at beam 5 (the default). */
export const DEFAULT_COMPARE = '--revise-beam-size 1|--revise-beam-size 5'

/** Splits `a|b` into the two arms' server flags. */
export function parseCompare(spec) {
  const arms = spec.split('|').map((s) => s.trim().split(/\s+/).filter(Boolean))
  if (arms.length !== 2)
    throw new Error(`--compare takes two flag sets joined by '|', got ${JSON.stringify(spec)}`)
  return arms
}

/**
 * Runs the A/B on `backend` over `inputs` (each shaped as corpus.mjs's `compose` returns).
 * The latency ratio's interval is a bootstrap over the finals; WER is per arm over every run.
 */
export async function compareRun(backend, spec, inputs, serverOptions = {}) {
  const [a, b] = parseCompare(spec)
  const arm = () => ({ latency: [], finals: [], revised: [], cpuSeconds: 0, audioSeconds: 0 })
  const samples = { A: arm(), B: arm() }
  for (const label of ['A', 'B', 'B', 'A']) {
    const server = await startServer(backend, label === 'A' ? a : b, serverOptions)
    const s = samples[label]
    try {
      for (const c of inputs) {
        const run = await realtimeRun(server, 'prompt', 1, c, c.audio)
        const r = run.results[0]
        s.latency.push(...r.per.map((p) => p.finalLatency).filter((x) => x !== null))
        s.finals.push({ reference: c.reference, hypothesis: r.text })
        s.revised.push({ reference: c.reference, hypothesis: r.revised })
        s.cpuSeconds += run.serverCpuPerAudioSecond * run.audioSeconds
        s.audioSeconds += run.audioSeconds
      }
    } finally {
      await server.stop()
    }
  }
  const latency = bootstrapRatio(samples.A.latency, samples.B.latency)
  const per = (f) => ({ A: f(samples.A), B: f(samples.B) })
  const werOf = (pairs) => round(corpusWordErrorRate(pairs) * 100, 1)
  return {
    backend,
    A: a.join(' '),
    B: b.join(' '),
    inputs: inputs.map((c) => ({ name: c.name ?? 'synthetic', audioSeconds: round(c.audio.length / SR, 1) })),
    finalLatencyP50Ms: per((s) => ms(median(s.latency))),
    finalLatencyP95Ms: per((s) => ms(quantile(s.latency, 0.95))),
    finalLatencyRatio: {
      ratio: round(latency.ratio, 2),
      low: round(latency.low, 2),
      high: round(latency.high, 2),
    },
    serverCpuPerAudioSecond: per((s) => round(s.cpuSeconds / s.audioSeconds, 3)),
    werFinals: per((s) => werOf(s.finals)),
    werRevised: per((s) => werOf(s.revised)),
  }
}
