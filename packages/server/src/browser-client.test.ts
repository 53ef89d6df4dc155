import { fileURLToPath } from 'node:url'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { pino } from 'pino'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_PATH, launchSpeaking } from './chromium.js'
import { createServer, type WhisperStreamServer } from './server.js'

// @ws/client's browser build (served by the server as /client.js, the file the demo page
// imports) in a real browser: the microphone through its AudioWorklet, a session with the
// same events as in Node, reconnection after a server restart with the lost-audio report,
// typed errors. The fake microphone loops one sentence and 6 s of silence.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
const [speech] = loadSpeechFixtures(FIXTURES, (f) => f.name === 'harvard-05')
const MAX_WER = 0.35

type PageEvent = { type: string; [k: string]: unknown }
/** The page's globals these tests set (the test program has no DOM types). */
type PageGlobals = {
  events: PageEvent[]
  // biome-ignore lint/suspicious/noExplicitAny: the browser build's API, untyped in the page
  client: any
  location: { origin: string }
  session: { end(): Promise<void> }
  capture: { stop(): Promise<void> }
}
describe.skipIf(!CHROMIUM_PATH)('@ws/client in the browser', () => {
  let server: WhisperStreamServer
  let browser: Browser
  let mic: Awaited<ReturnType<typeof launchSpeaking>> | undefined
  const start = (port = 0) => {
    const s = createServer({ port, logger: pino({ level: 'silent' }) })
    return s.listen().then(() => s)
  }

  beforeAll(async () => {
    server = await start()
    mic = await launchSpeaking(speech!)
    browser = mic.browser
  }, 300_000)

  afterAll(async () => {
    await mic?.close()
    await server?.close()
  })

  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${server.url}/`)
    // The page's own module import (a dynamic import() here would be rewritten by the test runner).
    await page.addScriptTag({ type: 'module', content: "import * as m from '/client.js'; window.client = m" })
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).client !== undefined)
    return { page, errors }
  }
  const events = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).events)

  it('captures the microphone as 16 kHz PCM16 frames of 20 ms, at the audio clock’s pace', async () => {
    const { page, errors } = await open()
    const r = await page.evaluate(async () => {
      const w = globalThis as unknown as PageGlobals
      const m = w.client
      const lengths: number[] = []
      const clock = globalThis as unknown as { performance: { now(): number } }
      const t0 = clock.performance.now()
      const capture = await m.captureMicrophone((f: Int16Array) => lengths.push(f.length), {})
      await new Promise((resolve) => setTimeout(resolve, 2000))
      await capture.stop()
      const stopped = lengths.length
      await new Promise((resolve) => setTimeout(resolve, 200))
      return {
        lengths,
        seconds: (clock.performance.now() - t0) / 1000,
        sampleRate: capture.sampleRate,
        stopped,
      }
    })
    expect(r.sampleRate).toBe(16_000)
    expect(new Set(r.lengths)).toEqual(new Set([320]))
    expect(r.lengths.length).toBe(r.stopped) // nothing after stop()
    // Frames hold 20 ms each: their audio is about the time that passed (without resampling
    // from the context's 48 kHz it would be three times as much).
    const ratio = (r.lengths.length * 0.02) / r.seconds
    expect(ratio).toBeGreaterThan(0.6)
    expect(ratio).toBeLessThan(1.2)
    expect(errors).toEqual([])
  }, 60_000)

  it('streams the microphone: partials and finals, reconnects after a restart, sends again what the server missed', async () => {
    const { page, errors } = await open()
    await page.evaluate(async () => {
      const w = globalThis as unknown as PageGlobals
      const m = w.client
      w.events = []
      const session = m.connect(w.location.origin, { strategy: 'prompt', reconnect: { initialDelayMs: 200 } })
      void (async () => {
        try {
          for await (const e of session) w.events.push(e)
          w.events.push({ type: 'ended' })
        } catch (err) {
          w.events.push({ type: 'thrown', code: (err as { code?: string }).code })
        }
      })()
      w.session = session
      w.capture = await m.streamMicrophone(session)
    })
    const has = (type: string) => async () => (await events(page)).some((e) => e.type === type)
    await expect.poll(has('final'), { timeout: 60_000, interval: 250 }).toBe(true)
    const port = Number(new URL(server.url).port)
    await server.close() // finalises what it received, closes with 1001
    server = await start(port)
    await expect.poll(has('reconnected'), { timeout: 30_000, interval: 250 }).toBe(true)
    const finalsAfter = async () => {
      const list = await events(page)
      const at = list.findIndex((e) => e.type === 'reconnected')
      return list.slice(at).filter((e) => e.type === 'final' && String(e.text).trim()).length
    }
    await expect.poll(finalsAfter, { timeout: 60_000, interval: 250 }).toBeGreaterThan(0)
    await page.evaluate(async () => {
      const w = globalThis as unknown as PageGlobals
      await w.capture.stop()
      await w.session.end()
    })
    await expect.poll(has('ended'), { timeout: 30_000, interval: 250 }).toBe(true)

    const list = await events(page)
    const types = list.map((e) => e.type)
    expect(types[0]).toBe('ready')
    expect(types).toContain('partial')
    expect(types).toContain('reconnecting')
    const reconnected = list.find((e) => e.type === 'reconnected') as unknown as {
      lost: { start: number; end: number }
      replayed: number
    }
    // The microphone kept sending while the server was down: the client kept that audio and
    // sent it to the new server, so nothing is lost, and the finals after the restart are
    // placed from where the first server stopped on the stream's timeline.
    expect(reconnected.lost.end).toBe(reconnected.lost.start)
    expect(reconnected.replayed).toBeGreaterThan(0.2)
    const finals = list.filter((e) => e.type === 'final' && String(e.text).trim()) as unknown as {
      text: string
      audio_start: number
    }[]
    expect(finals.at(-1)!.audio_start).toBeGreaterThanOrEqual(reconnected.lost.end - 1e-6)
    // Each final is the looped sentence, or the part of it around the restart; tiny.en on one
    // short sentence misses a word or three ("prices often served in round walls", 3 of 7).
    const wers = finals.map((f) => corpusWordErrorRate([{ reference: speech!.text, hypothesis: f.text }]))
    expect(Math.min(...wers), finals.map((f) => f.text).join(' | ')).toBeLessThanOrEqual(MAX_WER)
    for (const [i, w] of wers.entries()) expect(w, finals[i]!.text).toBeLessThanOrEqual(0.6)
    expect(errors).toEqual([])
  }, 180_000)

  it('fails with typed errors: nothing listening, bad options', async () => {
    const { page } = await open()
    const r = await page.evaluate(async () => {
      const w = globalThis as unknown as PageGlobals
      const m = w.client
      const code = (e: unknown) => (e as { code?: string }).code ?? String(e)
      const nowhere = await m.connect('ws://127.0.0.1:9').ready.catch(code)
      let url = ''
      try {
        m.connect('ftp://example.com')
      } catch (e) {
        url = code(e)
      }
      const rate = await m.captureMicrophone(() => {}, { sampleRate: 1000 }).catch(code)
      return { nowhere, url, rate }
    })
    expect(r).toEqual({ nowhere: 'connection_failed', url: 'invalid_config', rate: 'invalid_config' })
  }, 60_000)
})
