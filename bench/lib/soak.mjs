// The soak and abuse run: live real-time sessions beside clients that misbehave, against one
// server process; what it reports is flat memory and descriptors, live latency, every slot
// given back, and nothing lost. Used by bench/soak.mjs (minutes) and tests/soak.test.ts (one).
import { readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { encodePcm16le, writeWav } from '@ws/core'
import { composeUtterances, loadSpeechFixtures } from '@ws/core/testing'
import WebSocket from 'ws'
import { FIXTURES } from './corpus.mjs'
import { spawnServer } from './server-process.mjs'

const SR = 16_000
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Starts `ws-server` with its defaults (plus `extra` flags): `{ ws, http, pid, stop }`. */
export async function startDefaultServer(extra = []) {
  const server = await spawnServer(extra)
  return { ...server, ws: server.url }
}

/** Resident memory (MB) and open descriptors of a process. */
export function processUse(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
  return { rssMb, fds: readdirSync(`/proc/${pid}/fd`).length }
}

/** The server's gauges and counters that the soak watches. */
export async function scrape(httpUrl) {
  const text = await (await fetch(`${httpUrl}/metrics`)).text()
  const value = (re) => Number(re.exec(text)?.[1] ?? 0)
  const refusals = {}
  for (const m of text.matchAll(/ws_refusals_total\{reason="([^"]+)"\} (\d+)/g)) refusals[m[1]] = Number(m[2])
  return {
    sessions: value(/^ws_sessions_active (\S+)/m),
    connections: value(/^ws_connections_open (\S+)/m),
    closing: value(/^ws_sessions_closing (\S+)/m),
    refusals,
  }
}

const fixtures = [
  ...loadSpeechFixtures(`${FIXTURES}speech`, (f) => f.name.startsWith('harvard-')),
  ...loadSpeechFixtures(`${FIXTURES}wer`),
]
/** `n` sentences from `from`, with varied pauses. */
export function stream(from, n) {
  const picked = Array.from({ length: n }, (_, i) => fixtures[(from + i) % fixtures.length])
  return composeUtterances(
    picked,
    picked.slice(1).map((_, i) => 0.6 + ((from + i) % 4) * 0.4),
    { leadSeconds: 0.4, trailSeconds: 1 },
  )
}

export function open(url) {
  const ws = new WebSocket(url)
  const messages = []
  const refused = new Promise((resolve) =>
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
  )
  ws.on('message', (d) => messages.push({ ...JSON.parse(d.toString()), at: performance.now() }))
  ws.on('error', () => {})
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)))
  const opened = Promise.race([
    new Promise((resolve) => ws.once('open', () => resolve(true))),
    refused.then(() => false),
    closed.then(() => false),
  ])
  return { ws, messages, opened, closed, refused }
}

export async function sendPaced(ws, audio, speed, stopAtSeconds = Infinity) {
  const t0 = performance.now()
  const frame = 320
  for (let i = 0; i < audio.length && i / SR < stopAtSeconds; i += frame) {
    if (ws.readyState !== ws.OPEN) return t0
    ws.send(encodePcm16le(audio.subarray(i, i + frame)))
    const wait = t0 + ((i + frame) / SR / speed) * 1000 - performance.now()
    if (wait > 0) await sleep(wait)
  }
  return t0
}

/**
 * Runs the mix for `seconds` against a server at `server` ({ ws, http, pid }). `live` real-time
 * sessions stream read sentences one after another; beside them: clients that vanish mid-
 * stream (3× real time), REST uploads of all sizes (and over the limits, and abandoned), a
 * garbage flooder, a 50× audio flooder, keepalive squatters, silent sockets and malformed
 * requests. Returns per-minute live latency, memory and descriptors, and the totals.
 */
export async function runSoak(server, { seconds, live = 2, squatters = 6, log = () => {} }) {
  const started = performance.now()
  const deadline = started + seconds * 1000
  const running = () => performance.now() < deadline
  const minuteOf = (t) => Math.floor((t - started) / 60_000)
  const latencies = [] // { minute, seconds }
  const lost = [] // what a live client sent and no final covers
  const counts = {
    liveSessions: 0,
    liveRefused: 0,
    vanished: 0,
    rest: {},
    flooderClosed: [],
    fastClosed: [],
    silentClosed: [],
    malformed: {},
  }
  const bump = (obj, key) => {
    obj[key] = (obj[key] ?? 0) + 1
  }
  const samples = []
  const wsUrl = (query = '') => `${server.ws}/ws/transcribe/prompt${query}`

  const liveLoop = async (k) => {
    let from = k * 7
    while (running()) {
      const c = stream(from, 4)
      from += 4
      const client = open(wsUrl())
      if (!(await client.opened)) {
        counts.liveRefused++
        await sleep(2000)
        continue
      }
      counts.liveSessions++
      const t0 = await sendPaced(client.ws, c.audio, 1)
      client.ws.send(JSON.stringify({ type: 'end' }))
      await client.closed
      const finals = client.messages.filter((m) => m.type === 'final')
      for (const u of c.utterances) {
        const f = finals.find((x) => x.audio_start <= u.end && x.audio_end >= u.end - 0.05)
        if (!f) {
          lost.push({ start: u.start, end: u.end, errors: client.messages.filter((m) => m.type === 'error') })
          continue
        }
        latencies.push({ minute: minuteOf(t0), seconds: (f.at - t0) / 1000 - u.end })
      }
      const end = client.messages.find((m) => m.type === 'session_end')
      if (!end || end.audio_end < c.audio.length / SR - 0.05) lost.push({ sessionEnd: end ?? null })
    }
  }

  const vanisher = async () => {
    let n = 0
    while (running()) {
      const client = open(wsUrl())
      if (await client.opened) {
        const audio = stream(n * 3, 3).audio
        const leaveAt = 1 + (n % 5)
        await sendPaced(client.ws, audio, 3, leaveAt)
        if (n % 3 === 0) client.ws.close()
        else if (n % 3 === 1) client.ws.terminate()
        else client.ws._socket?.destroy()
        counts.vanished++
      }
      n++
      await sleep(4000)
    }
  }

  const wav = (seconds) =>
    writeWav(stream(seconds, Math.max(1, Math.round(seconds / 3))).audio.subarray(0, seconds * SR), SR)
  const restFiles = [wav(5), wav(30), wav(90)]
  const restLoop = async () => {
    let n = 0
    while (running()) {
      const kind = n % 5
      try {
        if (kind === 3) {
          // Declared 50 MiB over the 25 MiB limit: refused unread.
          bump(counts.rest, await declaredTooLarge(server.http))
        } else if (kind === 4) {
          const abandon = new AbortController()
          const pending = postFile(server.http, restFiles[1], abandon.signal).catch(() => 'left')
          await sleep(300)
          abandon.abort()
          bump(counts.rest, await pending)
        } else {
          bump(counts.rest, await postFile(server.http, restFiles[kind]))
        }
      } catch (err) {
        bump(counts.rest, `failed: ${err.message}`)
      }
      n++
      await sleep(3000)
    }
  }

  const garbage = async () => {
    while (running()) {
      const client = open(wsUrl())
      client.ws._socket?.pause?.() // never reads
      if (await client.opened) {
        for (let i = 0; i < 20_000 && client.ws.readyState === client.ws.OPEN; i++)
          client.ws.send(Buffer.from([1]))
        client.ws._socket?.resume?.()
        counts.flooderClosed.push(await client.closed)
      }
      await sleep(15_000)
    }
  }

  const fast = async () => {
    let n = 0
    while (running()) {
      await sleep(20_000)
      const client = open(wsUrl())
      if (!(await client.opened)) continue
      await sendPaced(client.ws, stream(n++ * 5, 5).audio, 50)
      client.ws.send(JSON.stringify({ type: 'end' }))
      counts.fastClosed.push(await client.closed)
    }
  }

  const squat = async () => {
    const held = Array.from({ length: squatters }, () => open(wsUrl()))
    await Promise.all(held.map((c) => c.opened))
    while (running()) {
      for (const c of held)
        if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify({ type: 'keepalive' }))
      await sleep(3000)
    }
    const stillOpen = held.filter((c) => c.ws.readyState === c.ws.OPEN).length
    for (const c of held) c.ws.close()
    counts.squattersOpenAtEnd = stillOpen
  }

  const silent = async () => {
    while (running()) {
      const client = open(wsUrl())
      if (await client.opened) counts.silentClosed.push(await client.closed)
      await sleep(5000)
    }
  }

  const malformed = async () => {
    const targets = [
      '/ws/transcribe/%ZZ',
      '/ws/transcribe/prompt?__proto__=1',
      '/ws/transcribe/nope',
      '/ws/transcribe/prompt?sample_rate=12',
    ]
    while (running()) {
      for (const t of targets) {
        const client = open(`${server.ws}${t}`)
        bump(counts.malformed, `${t} → ${(await client.refused.catch(() => 0)) || 'opened'}`)
      }
      await sleep(10_000)
    }
  }

  const sampler = async () => {
    while (running()) {
      const use = processUse(server.pid)
      const gauges = await scrape(server.http)
      samples.push({ t: (performance.now() - started) / 1000, ...use, ...gauges })
      log(
        `${Math.round((performance.now() - started) / 1000)} s: RSS ${use.rssMb.toFixed(0)} MB, fds ${use.fds}, sessions ${gauges.sessions}, connections ${gauges.connections}`,
      )
      await sleep(5000)
    }
  }

  await Promise.all([
    ...Array.from({ length: live }, (_, k) => liveLoop(k)),
    vanisher(),
    restLoop(),
    garbage(),
    fast(),
    squat(),
    silent(),
    malformed(),
    sampler(),
  ])
  // Everyone left: every slot and connection must come back.
  let after
  for (let i = 0; i < 100; i++) {
    after = await scrape(server.http)
    if (after.sessions === 0 && after.connections === 0 && after.closing === 0) break
    await sleep(200)
  }
  return { seconds, live, latencies, lost, counts, samples, after, end: processUse(server.pid) }
}

function postFile(httpUrl, file, signal) {
  const body = new FormData()
  body.set('file', new Blob([file]), 'soak.wav')
  return fetch(`${httpUrl}/v1/audio/transcriptions`, {
    method: 'POST',
    body,
    ...(signal ? { signal } : {}),
  }).then(async (res) => {
    await res.arrayBuffer()
    return String(res.status)
  })
}

function declaredTooLarge(httpUrl) {
  const { hostname, port } = new URL(httpUrl)
  return new Promise((resolve) => {
    const req = request(
      {
        hostname,
        port,
        path: '/v1/audio/transcriptions',
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(50 << 20) },
      },
      (res) => {
        res.resume()
        resolve(String(res.statusCode))
      },
    )
    req.on('error', () => resolve('reset'))
    req.write(Buffer.alloc(16 * 1024))
  })
}
