import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ClientEvent, connect, type EventOf, streamAudio, type TranscriptionSession } from '@ws/client'
import { corpusWordErrorRate } from '@ws/core'
import { composeUtterances, freePort, loadSpeechFixtures, waitUntil } from '@ws/core/testing'
import { createServer as createWsServer } from '@ws/server'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { haproxyBinary, loopbackConfig } from '../bench/haproxy.mjs'

// Two @ws/server replicas (the CLI, as deployed: whisper.cpp tiny.en, one thread each)
// behind HAProxy with the shipped deploy/haproxy/haproxy.cfg (only its addresses changed),
// four clients streaming speech in real time through it, and one replica sent SIGTERM
// mid-stream: it drains, its sessions get finals for everything it received, then 1001; the
// clients reconnect through HAProxy to the other replica, and the lost audio they report is
// exactly what no server transcribed.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_CLI = join(ROOT, 'packages/server/dist/cli.js')
const harvard = loadSpeechFixtures(join(ROOT, 'fixtures/speech'), (f) => f.name.startsWith('harvard-'))
const DRAIN_DELAY_MS = 2500
// A drained replica finalises its two sessions (final and revision each) in up to 5 s on one
// thread of a slow machine: the drain starts early enough for audio to reach the other replica.
const SIGTERM_AT_S = 8

const ok = (url: string) => fetch(url).then((r) => r.ok)

async function activeSessions(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return Number(/^ws_sessions_active(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN)
}

/** Open WebSocket connections of a replica (sessions take a slot only with their audio). */
async function openConnections(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return Number(/^ws_connections_open(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN)
}

async function restTranscriptions(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return [...text.matchAll(/^ws_rest_transcriptions_total(?:\{[^}]*\})? (\d+)/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  )
}

interface Replica {
  port: number
  child: ChildProcess
  exited: Promise<number | null>
}

function startReplica(port: number, env: Record<string, string> = {}): Replica {
  const child = spawn(
    process.execPath,
    [SERVER_CLI, '--host', '127.0.0.1', '--port', String(port), '--threads', '1', '--no-demo'],
    {
      env: { ...process.env, LOG_LEVEL: 'warn', DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { port, child, exited }
}

const haproxy = haproxyBinary()
const children: ChildProcess[] = []
const dirs: string[] = []

/** Replicas (each with its own environment) behind HAProxy with the shipped configuration. */
async function startCluster(envs: Record<string, string>[]): Promise<{ replicas: Replica[]; front: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ws-scale-'))
  dirs.push(dir)
  const replicas: Replica[] = []
  for (const env of envs) replicas.push(startReplica(await freePort(), env))
  children.push(...replicas.map((r) => r.child))
  const frontPort = await freePort()
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    loopbackConfig(
      frontPort,
      replicas.map((r) => r.port),
    ),
  )
  children.push(
    spawn(haproxy!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] }),
  )
  for (const r of replicas) await waitUntil(`replica ${r.port}`, () => ok(`http://127.0.0.1:${r.port}/ready`))
  const front = `http://127.0.0.1:${frontPort}`
  await waitUntil('HAProxy', () => ok(`${front}/ready`))
  // Every replica in rotation (rise 2 at 1 s).
  await new Promise((r) => setTimeout(r, 2500))
  return { replicas, front }
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Client {
  session: TranscriptionSession
  events: ClientEvent[]
  audio: Float32Array
  utterances: { start: number; end: number; text: string }[]
  /** Audio the client had sent when its `reconnected` event fired. */
  sentAtReconnect?: number
  /** Audio the client had sent when the replica got SIGTERM. */
  sentAtSigterm?: number
  /** What ended its event loop with an error (a refused or failed reconnection). */
  failure?: unknown
}

describe.skipIf(!haproxy)('two replicas behind HAProxy', () => {
  it.each([
    { replaySeconds: 30, what: 'nothing lost (the client sends again what it did not finalise)' },
    { replaySeconds: 0, what: 'without a replay buffer, the lost audio reported exactly' },
  ])(
    'a replica drained mid-stream: finals for what it received, reconnection to the other, $what',
    async ({ replaySeconds }) => {
      const { replicas, front } = await startCluster([{}, {}])
      const clients: Client[] = []
      for (let i = 0; i < 4; i++) {
        const chosen = Array.from({ length: 5 }, (_, k) => harvard[(i * 2 + k) % harvard.length]!)
        const { audio, utterances } = composeUtterances(chosen, [1.2], {
          leadSeconds: 0.5,
          trailSeconds: 1.5,
        })
        const session = connect(`${front.replace('http', 'ws')}/ws/transcribe/prompt`, {
          reconnect: { initialDelayMs: 200, maxAttempts: 8, replaySeconds },
        })
        const client: Client = {
          session,
          events: [],
          audio,
          utterances: utterances.map((u, k) => ({ ...u, text: chosen[k]!.text })),
        }
        session.on('reconnected', () => {
          client.sentAtReconnect = session.audioSeconds
        })
        void (async () => {
          for await (const e of session) client.events.push(e)
        })().catch((err: unknown) => {
          client.failure = err
        })
        await session.ready
        clients.push(client)
      }
      // leastconn: two connections on each replica.
      expect(await Promise.all(replicas.map((r) => openConnections(r.port)))).toEqual([2, 2])

      const streams = clients.map((c) => streamAudio(c.session, c.audio, { realtime: true }))
      await new Promise((r) => setTimeout(r, SIGTERM_AT_S * 1000))
      const drained = replicas[0]!
      for (const c of clients) c.sentAtSigterm = c.session.audioSeconds
      drained.child.kill('SIGTERM')
      await Promise.all(streams)
      await Promise.all(clients.map((c) => c.session.end()))
      expect(await drained.exited).toBe(0)

      const moved = clients.filter((c) =>
        c.events.some((e) => e.type === 'session_end' && e.reason === 'shutdown'),
      )
      const stayed = clients.filter((c) => !moved.includes(c))
      expect(moved).toHaveLength(2)
      const transcripts: { reference: string; hypothesis: string }[] = []
      for (const c of clients) {
        const types = c.events.map((e) => e.type)
        // Nobody refused, nothing failed.
        expect(c.events.filter((e) => e.type === 'error')).toEqual([])
        const finals = c.events.filter((e): e is EventOf<'final'> => e.type === 'final')
        if (stayed.includes(c)) {
          expect(types).not.toContain('reconnected')
          continue
        }
        const endAt = types.indexOf('session_end')
        const end = c.events[endAt] as EventOf<'session_end'>
        const reconnected = c.events.find((e): e is EventOf<'reconnected'> => e.type === 'reconnected')!
        expect(reconnected, `${types.join(' ')}; ${String(c.failure ?? 'no failure')}`).toBeDefined()
        // Everything sent before the drain began reached the replica, and it finalised all it received.
        expect(end.audio_end).toBeGreaterThanOrEqual(c.sentAtSigterm! - 0.05)
        const before = finals.filter((f) => c.events.indexOf(f) < endAt)
        for (const u of c.utterances.filter((u) => u.start < end.audio_end - 0.3)) {
          expect(
            before.some((f) => f.audio_end > u.start && f.audio_start < u.end),
            `an utterance at ${u.start.toFixed(1)} s, before the cut at ${end.audio_end.toFixed(2)} s, has a final`,
          ).toBe(true)
        }
        // What the first replica finalised ends where it said; after it, either everything went
        // to the second replica again, or the report says exactly what did not.
        expect(reconnected.lost.start).toBeCloseTo(end.audio_end, 6)
        if (replaySeconds > 0) {
          expect(reconnected.lost.end).toBe(reconnected.lost.start)
          expect(reconnected.replayed).toBeCloseTo(c.sentAtReconnect! - end.audio_end, 6)
        } else {
          expect(reconnected.lost.end).toBeCloseTo(c.sentAtReconnect!, 6)
          expect(reconnected.lost.end).toBeGreaterThan(reconnected.lost.start)
          expect(reconnected.replayed).toBe(0)
        }
        const after = finals.filter((f) => c.events.indexOf(f) > types.indexOf('reconnected'))
        expect(after.length).toBeGreaterThan(0)
        for (const f of after) expect(f.audio_start).toBeGreaterThanOrEqual(reconnected.lost.end - 1e-6)
        // What was transcribed reads as what was said, away from the utterances the cut touched.
        const lost = reconnected.lost
        const touched = c.utterances.filter((u) => u.end > lost.start - 0.3 && u.start < lost.end)
        const clear = (from: number, to: number) => touched.every((u) => to <= u.start || from >= u.end)
        transcripts.push({
          reference: c.utterances
            .filter((u) => !touched.includes(u))
            .map((u) => u.text)
            .join(' '),
          hypothesis: finals
            .filter((f) => clear(f.audio_start, f.audio_end))
            .map((f) => f.text)
            .join(' '),
        })
        console.log(
          `moved session: finalised to ${end.audio_end.toFixed(2)} s (SIGTERM at ${c.sentAtSigterm!.toFixed(2)} s), lost ${reconnected.lost.start.toFixed(2)}–${reconnected.lost.end.toFixed(2)} s, sent again ${reconnected.replayed.toFixed(2)} s`,
        )
      }
      const wer = corpusWordErrorRate(transcripts)
      console.log(
        `moved sessions (replay ${replaySeconds} s): WER ${(wer * 100).toFixed(1)}% outside the utterances cut`,
      )
      expect(wer).toBeLessThan(0.5)
      // The other replica holds all four now and is still in rotation.
      expect(await ok(`${front}/ready`)).toBe(true)
    },
    300_000,
  )

  it('a front server sends its inference to a pool of engines behind HAProxy', async () => {
    const { replicas, front } = await startCluster([{}, {}])
    const server = createWsServer({
      backend: 'openai',
      backendUrl: `${front}/v1`,
      backendConcurrency: 2,
      port: 0,
      logger: pino({ level: 'silent' }),
    })
    await server.listen()
    try {
      const chosen = harvard.slice(0, 4)
      const { audio } = composeUtterances(chosen, [0.8], { leadSeconds: 0.3, trailSeconds: 1 })
      const session = connect(`${server.url.replace('http', 'ws')}/ws/transcribe/prompt`, {
        revisions: false,
      })
      const finals: string[] = []
      session.on('final', (f) => finals.push(f.text))
      await session.ready
      await streamAudio(session, audio)
      await session.end()
      const wer = corpusWordErrorRate([
        { reference: chosen.map((f) => f.text).join(' '), hypothesis: finals.join(' ') },
      ])
      const served = await Promise.all(replicas.map((r) => restTranscriptions(r.port)))
      console.log(
        `front server on two engines: WER ${(wer * 100).toFixed(1)}%, requests per engine ${served.join(', ')}`,
      )
      expect(wer).toBeLessThan(0.4)
      // Both engines did the work (partials and finals are separate requests).
      for (const n of served) expect(n).toBeGreaterThan(0)
    } finally {
      await server.close()
    }
  }, 300_000)

  it('a full replica refuses, HAProxy retries on the other: no session is refused while one has room', async () => {
    const { replicas, front } = await startCluster([{ MAX_CLIENTS: '1' }, {}])
    const sessions: TranscriptionSession[] = []
    for (let i = 0; i < 4; i++) {
      const session = connect(`${front.replace('http', 'ws')}/ws/transcribe/prompt`)
      await session.ready
      // A session takes its replica's slot with its first audio, as a client streaming at once does.
      session.sendAudio(new Float32Array(1600))
      await waitUntil(
        `session ${i + 1} transcribing`,
        async () =>
          (await Promise.all(replicas.map((r) => activeSessions(r.port)))).reduce((a, b) => a + b) === i + 1,
        30_000,
      )
      sessions.push(session)
    }
    expect(await Promise.all(replicas.map((r) => activeSessions(r.port)))).toEqual([1, 3])
    await Promise.all(sessions.map((s) => s.end()))
  }, 300_000)
})
