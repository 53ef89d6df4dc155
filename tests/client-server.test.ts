import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { type ClientEvent, connect, readAudio, streamAudio } from '@ws/client'
import { corpusWordErrorRate, isWsError, writeWav } from '@ws/core'
import { composeUtterances, loadSpeechFixtures } from '@ws/core/testing'
import { createServer, type WhisperStreamServer } from '@ws/server'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// @ws/client's SDK and CLI against the real server (here, not in packages/client: the server
// depends on the client for its demo page, so the client's own tests cannot import it), with the real whisper.cpp backend and tiny.en.
const FIXTURES = fileURLToPath(new URL('../fixtures/speech', import.meta.url))
const CLI = fileURLToPath(new URL('../packages/client/dist/cli.js', import.meta.url))
const harvard = loadSpeechFixtures(FIXTURES, (f) => f.name.startsWith('harvard-'))
const SR = 16_000
const MAX_WER = 0.35

let backend: WhisperCppBackend
let server: WhisperStreamServer
let dir: string
let wavPath: string
const fixtures = harvard.slice(0, 3)
const reference = fixtures.map((f) => f.text).join(' ')
const { audio } = composeUtterances(fixtures, [1.0, 0.8], { leadSeconds: 0.3, trailSeconds: 1 })

const start = (options: Parameters<typeof createServer>[0] = {}) => {
  const s = createServer({ backend, port: 0, logger: pino({ level: 'silent' }), ...options })
  return s.listen().then(() => s)
}
const wer = (hypothesis: string) => corpusWordErrorRate([{ reference, hypothesis }])
/** A session's events as they come, and the loop that reads them (it ends with the session). */
const recorded = (session: ReturnType<typeof connect>) => {
  const events: ClientEvent[] = []
  const reading = (async () => {
    for await (const e of session) events.push(e)
  })()
  return { events, reading }
}
// Per sentence, tiny.en on espeak speech misses up to half the words even offline: the
// bound is the offline WER of the same audio with the same backend, plus a margin.
let maxWer = MAX_WER

beforeAll(async () => {
  // Finals on the fitted window: the client is what is checked here; the full window's
  // accuracy is checked in tests/real-speech.test.ts, and it made this file 1.5× as long.
  backend = new WhisperCppBackend({ finalWindow: 'fitted' })
  await backend.loadModel('tiny.en')
  server = await start()
  // Streaming transcribes each sentence on its own: the bound is the offline WER of the same
  // sentences, each transcribed alone (the whole file at once is easier: 15.4 % against
  // 34.6 % sentence by sentence on whisper.cpp 1.8.5; streamed: 38.5 %).
  const offline = wer((await backend.transcribe(audio, SR)).text)
  const perSentence = wer(
    (await Promise.all(fixtures.map((f) => backend.transcribe(f.audio, SR)))).map((r) => r.text).join(' '),
  )
  maxWer = Math.max(MAX_WER, perSentence + 0.15)
  console.log(
    `offline WER of the test audio: ${(offline * 100).toFixed(1)}% whole, ${(perSentence * 100).toFixed(1)}% sentence by sentence`,
  )
  dir = mkdtempSync(join(tmpdir(), 'ws-client-'))
  wavPath = join(dir, 'speech-44k.wav')
  // 44.1 kHz stereo: the client resamples.
  const { resample } = await import('@ws/core')
  const hi = resample(audio, SR, 44_100)
  writeFileSync(wavPath, writeWav([hi, hi], 44_100))
}, 300_000)

afterAll(async () => {
  await server?.close()
  await backend?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('connect()', () => {
  it('streams a file in real time: finals within the WER bound, and the loop ends with the session', async () => {
    const session = connect(server.url, { strategy: 'prompt' })
    const ready = await session.ready
    expect(ready.strategy).toBe('prompt')
    const viaOn: string[] = []
    session.on('final', (e) => viaOn.push(e.text))
    const samples = await readAudio(wavPath)
    expect(samples.length / SR).toBeCloseTo(audio.length / SR, 1)
    const sending = streamAudio(session, samples, { realtime: true }).then(() => session.end())
    const events: ClientEvent[] = []
    for await (const event of session) events.push(event)
    await sending
    const finals = events.filter((e) => e.type === 'final')
    expect(finals.length).toBeGreaterThanOrEqual(3)
    expect(events.some((e) => e.type === 'partial')).toBe(true)
    expect(viaOn).toEqual(finals.map((f) => f.text))
    const text = finals.map((f) => f.text).join(' ')
    console.log(`SDK, real time: WER ${(wer(text) * 100).toFixed(1)}% "${text}"`)
    expect(wer(text)).toBeLessThanOrEqual(maxWer)
    expect(session.closed).toBe(true)
  }, 60_000)

  it('gets revisions by default that are more accurate than the finals they replace, and none with revisions=false', async () => {
    // Ten sentences (43 s): two blocks of up to 28 s, decoded again with the text before them.
    const ten = harvard.slice(0, 10)
    const long = composeUtterances(ten, [0.3, 0.8, 2.0, 1.2, 0.5], { leadSeconds: 0.5, trailSeconds: 1.5 })
    const tenReference = ten.map((f) => f.text).join(' ')
    const run = async (options: { revisions?: boolean }) => {
      const session = connect(server.url, { strategy: 'prompt', ...options })
      await session.ready
      const sending = streamAudio(session, long.audio).then(() => session.end())
      const events: ClientEvent[] = []
      for await (const event of session) events.push(event)
      await sending
      return events
    }
    const events = await run({})
    const finals = events.filter((e) => e.type === 'final')
    const revisions = events.filter((e) => e.type === 'revision')
    expect(revisions.length).toBeGreaterThanOrEqual(2)
    // Each final is replaced once, in order.
    expect(revisions.flatMap((r) => r.utterance_ids)).toEqual(finals.map((f) => f.utterance_id))
    const finalsWer = corpusWordErrorRate([
      { reference: tenReference, hypothesis: finals.map((f) => f.text).join(' ') },
    ])
    const revisedWer = corpusWordErrorRate([
      { reference: tenReference, hypothesis: revisions.map((r) => r.text).join(' ') },
    ])
    console.log(
      `ten sentences: finals ${(finalsWer * 100).toFixed(1)} % WER, revised ${(revisedWer * 100).toFixed(1)} %`,
    )
    // Measured: 24.7 % → 8.6 % (bench/results/streaming, virtual clock).
    expect(revisedWer).toBeLessThan(finalsWer - 0.05)
    const off = await run({ revisions: false })
    expect(off.filter((e) => e.type === 'revision')).toEqual([])
    expect(off.filter((e) => e.type === 'final').length).toBe(finals.length)
  }, 120_000)

  it('closes cleanly when the reader breaks out of the loop', async () => {
    const session = connect(server.url, { strategy: 'hybrid' })
    await session.ready
    for await (const event of session) {
      expect(event.type).toBe('ready') // the first event, already received
      break
    }
    expect(session.closed).toBe(true)
    await expect.poll(() => server.sessions, { timeout: 5_000 }).toBe(0)
    await session.close() // idempotent
  })

  it.each([
    { replaySeconds: 30, what: 'sends again the audio the server missed' },
    { replaySeconds: 0, what: 'without a replay buffer, reports the audio it could not transcribe' },
  ])(
    'reconnects after a server restart and $what',
    async ({ replaySeconds }) => {
      const first = await start()
      const port = first.address()!.port
      const session = connect(first.url, {
        strategy: 'prompt',
        reconnect: { initialDelayMs: 100, replaySeconds },
      })
      await session.ready
      const { events, reading } = recorded(session)
      const one = harvard[3]!.audio
      const two = harvard[4]!.audio
      await streamAudio(session, one)
      const received = async () => (await first.metrics!.audioSeconds.get()).values[0]?.value ?? 0
      await expect.poll(received, { timeout: 10_000 }).toBeCloseTo(one.length / SR, 2)
      await first.close() // finalises what it received, then closes with 1001
      expect(events.filter((e) => e.type === 'final')).toHaveLength(1)
      await streamAudio(session, new Float32Array(SR / 2)) // sent while the server is down
      const second = createServer({ backend, port, logger: pino({ level: 'silent' }) })
      await second.listen()
      await expect.poll(() => events.some((e) => e.type === 'reconnected'), { timeout: 30_000 }).toBe(true)
      await streamAudio(session, two)
      await session.end()
      await reading
      await second.close()
      const reconnected = events.find((e) => e.type === 'reconnected')!
      // The first server said what it received and finalised: all of `one`, to the sample.
      expect(events.find((e) => e.type === 'session_end')).toMatchObject({ reason: 'shutdown' })
      expect(reconnected.lost.start).toBeCloseTo(one.length / SR, 6)
      if (replaySeconds > 0) {
        // The half second sent while the server was down went to the new one: nothing lost.
        expect(reconnected.lost.end).toBe(reconnected.lost.start)
        expect(reconnected.replayed).toBeCloseTo(0.5, 2)
      } else {
        expect(reconnected.lost.end).toBeCloseTo((one.length + SR / 2) / SR, 2)
        expect(reconnected.replayed).toBe(0)
      }
      const finals = events.filter((e) => e.type === 'final')
      // The second server's final is placed after the gap on the stream's timeline.
      expect(finals.at(-1)!.audio_start).toBeGreaterThanOrEqual(reconnected.lost.end - 1e-6)
      const text = finals.map((f) => f.text).join(' ')
      const expected = `${harvard[3]!.text} ${harvard[4]!.text}`
      expect(corpusWordErrorRate([{ reference: expected, hypothesis: text }])).toBeLessThanOrEqual(MAX_WER)
    },
    120_000,
  )

  it('end() while reconnecting waits for the new connection, sends it what nobody finalised, then ends', async () => {
    const first = await start()
    const port = first.address()!.port
    const session = connect(first.url, { strategy: 'prompt', reconnect: { initialDelayMs: 300 } })
    await session.ready
    const { events, reading } = recorded(session)
    await first.close()
    await expect.poll(() => events.some((e) => e.type === 'reconnecting')).toBe(true)
    // The whole sentence goes while no server listens, then the caller ends at once.
    await streamAudio(session, harvard[5]!.audio)
    const ended = session.end()
    expect(() => session.sendAudio(new Float32Array(160))).toThrow(/ended/)
    const second = createServer({ backend, port, logger: pino({ level: 'silent' }) })
    await second.listen()
    await ended
    await reading
    await second.close()
    const reconnected = events.find((e) => e.type === 'reconnected')!
    expect(reconnected).toMatchObject({ lost: { start: 0, end: 0 } })
    expect(reconnected.replayed).toBeCloseTo(harvard[5]!.audio.length / SR, 2)
    const finals = events.filter((e) => e.type === 'final')
    const text = finals.map((f) => f.text).join(' ')
    expect(corpusWordErrorRate([{ reference: harvard[5]!.text, hypothesis: text }])).toBeLessThanOrEqual(
      MAX_WER,
    )
    expect(events.at(-1)).toMatchObject({ type: 'session_end', reason: 'end' })
  }, 60_000)

  it('a reconnection refused as busy is tried again, and gets in once the server has room', async () => {
    const first = await start({ maxClients: 1 })
    const port = first.address()!.port
    // The first attempt comes 1–3 s after the loss: time for another client to take the slot.
    const session = connect(first.url, { strategy: 'prompt', reconnect: { initialDelayMs: 2000 } })
    await session.ready
    const { events, reading } = recorded(session)
    await streamAudio(session, harvard[6]!.audio)
    await first.close()
    await expect.poll(() => events.some((e) => e.type === 'reconnecting')).toBe(true)
    const second = await start({ port, maxClients: 1 })
    const holder = connect(second.url, { strategy: 'prompt' })
    await holder.ready
    holder.sendAudio(new Float32Array(1600))
    await expect.poll(() => second.sessions).toBe(1)
    // The first attempt is refused (the one slot is taken), and a second one is scheduled.
    await expect
      .poll(() => events.some((e) => e.type === 'reconnecting' && e.attempt === 2), { timeout: 10_000 })
      .toBe(true)
    await holder.close()
    await expect.poll(() => events.some((e) => e.type === 'reconnected'), { timeout: 20_000 }).toBe(true)
    await session.end()
    await reading
    await second.close()
    expect(events.filter((e) => e.type === 'error')).toEqual([])
    // The first server finalised the sentence before it closed: nothing was lost.
    const reconnected = events.find((e) => e.type === 'reconnected')!
    expect(reconnected.lost.end).toBe(reconnected.lost.start)
    expect(events.at(-1)).toMatchObject({ type: 'session_end', reason: 'end' })
  }, 60_000)

  it('gives typed errors: a bad URL, a refused token, a full server', async () => {
    const nowhere = connect('ws://127.0.0.1:9', {})
    await expect(nowhere.ready).rejects.toSatisfy((e) => isWsError(e, 'connection_failed'))
    expect(() => connect('ftp://example.com')).toThrow(/ws:\/\//)

    const guarded = await start({ authToken: 'sesame', maxClients: 1 })
    const refused = connect(guarded.url, { token: 'wrong' })
    await expect(refused.ready).rejects.toSatisfy((e) => isWsError(e, 'unauthorized'))
    const iterate = async (s: ReturnType<typeof connect>) => {
      for await (const _ of s) {
      }
    }
    await expect(iterate(refused)).rejects.toSatisfy((e) => isWsError(e, 'unauthorized'))
    const holder = connect(guarded.url, { token: 'sesame' })
    await holder.ready
    // A session holds the server's one slot once it sends audio.
    holder.sendAudio(new Float32Array(1600))
    await expect.poll(() => guarded.sessions).toBe(1)
    const busy = connect(guarded.url, { token: 'sesame' })
    const error = await busy.ready.catch((e: unknown) => e)
    expect(isWsError(error, 'server_busy') && error.retryable).toBe(true)
    await holder.close()
    await guarded.close()
  }, 60_000)
})

describe('ws-transcribe', () => {
  // The built CLI is what users run: built here when missing, never skipped.
  beforeAll(() => {
    if (!existsSync(CLI)) execFileSync('pnpm', ['--filter', '@ws/client', 'build'], { stdio: 'ignore' })
  }, 300_000)

  // Asynchronous: the server under test runs in this process.
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
      })
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    })

  it('prints JSON events whose finals hold the right words', async () => {
    const result = await run([wavPath, '--url', server.url, '--json', '--strategy', 'prompt'])
    expect(result.status).toBe(0)
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ClientEvent)
    expect(events[0]!.type).toBe('ready')
    const text = events
      .filter((e) => e.type === 'final')
      .map((e) => (e as { text: string }).text)
      .join(' ')
    expect(wer(text)).toBeLessThanOrEqual(maxWer)
  }, 120_000)

  it('prints finals and a latency summary, with client-side VAD', async () => {
    const result = await run([wavPath, '--url', server.url, '--vad', 'webrtc', '--strategy', 'hybrid'])
    expect(result.status).toBe(0)
    expect(wer(result.stdout.trim().split('\n').join(' '))).toBeLessThanOrEqual(maxWer)
    expect(result.stderr).toMatch(
      /finals: \d+, mean server time \d+ ms, final latency p50 \d+ ms, p95 \d+ ms/,
    )
  }, 120_000)

  it('exits 2 on bad arguments, 3 when it cannot connect, 4 on a server error', async () => {
    expect((await run([])).status).toBe(2)
    expect((await run([wavPath, '--strategy', 'nope'])).status).toBe(2)
    const missing = await run([join(dir, 'missing.wav')])
    expect(missing.status).toBe(2)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    const down = await run([wavPath, '--url', 'ws://127.0.0.1:9'])
    expect(down.status).toBe(3)
    expect(down.stderr).toMatch(/connection_failed/)
    const guarded = await start({ authToken: 'sesame' })
    const refused = await run([wavPath, '--url', guarded.url, '--token', 'nope'])
    expect(refused.status).toBe(4)
    expect(refused.stderr).toMatch(/unauthorized/)
    await guarded.close()
  }, 120_000)
})
