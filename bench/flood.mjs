#!/usr/bin/env node
// A live session beside a client sending 50× faster than real time, against the same live
// session alone, in one run (issue: hardening, item 4): `node bench/flood.mjs [--rounds 3]`.
// The server on its defaults; writes bench/results/flood/latest.md.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { open, sendPaced, startDefaultServer, stream } from './lib/soak.mjs'
import { quantile } from './lib/stats.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write('Usage: node bench/flood.mjs [--rounds 3] [--out dir]\n')
  process.exit(0)
}
const OUT = args.out ? `${args.out}/` : fileURLToPath(new URL('./results/flood/', import.meta.url))

/** One live session over 8 sentences in real time; its finals' latencies (s). */
async function live(server, from) {
  const c = stream(from, 8)
  const client = open(`${server.ws}/ws/transcribe/prompt`)
  await client.opened
  const t0 = await sendPaced(client.ws, c.audio, 1)
  client.ws.send(JSON.stringify({ type: 'end' }))
  await client.closed
  const finals = client.messages.filter((m) => m.type === 'final')
  return c.utterances.flatMap((u) => {
    const f = finals.find((x) => x.audio_start <= u.end && x.audio_end >= u.end - 0.05)
    return f ? [(f.at - t0) / 1000 - u.end] : []
  })
}

/** A client that streams 60 sentences at 50× real time, then ends, until `stop` resolves. */
async function flooder(server, stop) {
  let done = false
  void stop.then(() => {
    done = true
  })
  let n = 0
  while (!done) {
    const client = open(`${server.ws}/ws/transcribe/prompt`)
    if (!(await client.opened)) continue
    await sendPaced(client.ws, stream(n++ * 60, 60).audio, 50)
    client.ws.send(JSON.stringify({ type: 'end' }))
    await client.closed
  }
}

const server = await startDefaultServer()
const alone = []
const flooded = []
for (let r = 0; r < Number(args.rounds); r++) {
  alone.push(...(await live(server, r * 8)))
  let stop
  const stopped = new Promise((resolve) => {
    stop = resolve
  })
  const flood = flooder(server, stopped)
  flooded.push(...(await live(server, r * 8)))
  stop()
  await flood
}
await server.stop()
const p = (xs, q) => (xs.length ? Math.round(quantile(xs, q) * 1000) : null)
const md = `# A live session beside a 50× flooder

\`node bench/flood.mjs --rounds ${args.rounds}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.versions.node}; the server on its defaults (whisper.cpp tiny.en, \`prompt\`, revisions on). The same 8 sentences in real time, alone and beside a client streaming at 50× real time, interleaved.

| | finals | p50 ms | p95 ms |
| --- | --- | --- | --- |
| alone | ${alone.length} | ${p(alone, 0.5)} | ${p(alone, 0.95)} |
| beside the flooder | ${flooded.length} | ${p(flooded, 0.5)} | ${p(flooded, 0.95)} |
| ratio | | ${(p(flooded, 0.5) / p(alone, 0.5)).toFixed(2)} | ${(p(flooded, 0.95) / p(alone, 0.95)).toFixed(2)} |
`
mkdirSync(OUT, { recursive: true })
writeFileSync(`${OUT}latest.md`, md)
process.stdout.write(md)
