import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readWavMono } from '@ws/core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_PATH, launchPlaying } from '../../packages/server/src/chromium.js'
import { spokenQuestion } from '../../packages/voice/src/test-support.js'

// The example as a user runs it (`npm start`: its own process, the real models), and its page
// in headless Chromium whose fake microphone asks a question (espeak-ng) in a loop.
const here = dirname(fileURLToPath(import.meta.url))

interface Seen {
  type: string
  response_id?: number
  text?: string
  url?: string
  audio_url?: string | null
  n: number
}

describe.skipIf(!CHROMIUM_PATH)('example: voice-assistant', () => {
  let child: ChildProcess
  /** `npm start` as a user runs it (here `node server.mjs`), on `port`; its URL once it listens. */
  const startExample = async (port: string) => {
    child = spawn(process.execPath, [join(here, 'server.mjs'), '--port', port], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    child.stderr!.on('data', (d) => {
      log += d
    })
    return new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        const m = /Voice assistant: (\S+)/.exec(String(d))
        if (m) resolve(m[1]!)
      })
      child.on('exit', (code) => reject(new Error(`the example exited ${code}: ${log}`)))
    })
  }
  let url = ''
  let mic: Awaited<ReturnType<typeof launchPlaying>>
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    url = await startExample('0')
    const question = await spokenQuestion('What is the capital of France?')
    const loop = new Float32Array(question.length + 10 * 16_000)
    loop.set(question)
    mic = await launchPlaying(loop)
    browser = mic.browser
    page = await browser.newPage()
    // Every message the page receives, and every sound it plays, kept for the assertions.
    await page.addInitScript(() => {
      const w = window as unknown as { __seen: unknown[]; __played: string[] }
      w.__seen = []
      w.__played = []
      const Native = window.WebSocket
      window.WebSocket = class extends Native {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args)
          this.addEventListener('message', (e) => {
            if (typeof e.data === 'string') w.__seen.push({ ...JSON.parse(e.data), n: w.__seen.length })
          })
        }
      }
      const play = HTMLMediaElement.prototype.play
      HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
        if (!this.src.startsWith('data:')) w.__played.push(this.src)
        return play.call(this)
      }
    })
  }, 300_000)

  afterAll(async () => {
    await mic?.close()
    child?.kill('SIGTERM')
  })

  const seen = () => page.evaluate(() => (window as unknown as { __seen: Seen[] }).__seen)
  const waitFor = async (test: (s: Seen[]) => boolean, ms = 60_000) => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      const s = await seen()
      if (test(s)) return s
      await page.waitForTimeout(100)
    }
    throw new Error(`not seen in ${ms} ms: ${JSON.stringify((await seen()).map((m) => m.type))}`)
  }

  it('hears a spoken question, streams the local model’s answer and plays its sentences in order', async () => {
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(url)
    await page.locator('.state[data-state="ready"]').waitFor({ timeout: 30_000 })
    await page.click('.mic')
    await page.locator('.state[data-state="recording"]').waitFor()
    // Until the question has been heard, and a moment of silence after it.
    await page.locator('.transcript', { hasText: /france/i }).waitFor({ timeout: 30_000 })
    await page.waitForTimeout(1200)
    await page.click('.mic')
    const s = await waitFor((x) => x.some((m) => m.type === 'response_complete'))
    const types = s.map((m) => m.type)
    expect(types).toContain('partial_transcript')
    const final = s.find((m) => m.type === 'final_transcript')!
    expect(final.text).toMatch(/capital|france/i)
    const chunks = s.filter((m) => m.type === 'response_chunk')
    expect(chunks.length).toBeGreaterThan(0)
    const done = s.find((m) => m.type === 'response_complete')!
    expect(done.audio_url).toMatch(/\.wav$/)
    const res = await fetch(new URL(done.audio_url!, url))
    expect(res.headers.get('content-type')).toBe('audio/wav')
    const wav = readWavMono(new Uint8Array(await res.arrayBuffer()))
    expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(0.3)
    // The page played the sentences, the first one first.
    const sentences = s.filter((m) => m.type === 'audio_chunk').map((m) => new URL(m.url!, url).href)
    const played = await page.evaluate(() => (window as unknown as { __played: string[] }).__played)
    expect(sentences.length).toBeGreaterThan(0)
    expect(played[0]).toBe(sentences[0])
    await page.locator('.answer', { hasText: done.text!.slice(0, 10) }).waitFor()
    console.log(
      `example: heard "${final.text}", answered "${done.text}", ${sentences.length} sentences, ${played.length} played`,
    )
    expect(errors).toEqual([])
  }, 120_000)

  it('stops the answer mid-way on cancel: no response_chunk after it', async () => {
    await page.fill('input[aria-label="question"]', 'Tell me a long story about a dragon and a knight.')
    const before = (await seen()).length
    await page.click('form button[type="submit"]')
    const s = await waitFor((x) => x.slice(before).some((m) => m.type === 'response_chunk'))
    const id = s.slice(before).find((m) => m.type === 'response_chunk')!.response_id
    await page.click('.cancel')
    const after = await waitFor((x) => x.some((m) => m.type === 'response_cancelled' && m.response_id === id))
    const cancelledAt = after.find((m) => m.type === 'response_cancelled' && m.response_id === id)!.n
    await page.waitForTimeout(1500)
    const late = (await seen()).filter((m) => m.n > cancelledAt && m.response_id === id)
    expect(late).toEqual([])
    await page.locator('.state[data-state="ready"]').waitFor()
  }, 60_000)

  it('reconnects with backoff when the server goes away, and works again once it is back', async () => {
    const readies = (await seen()).filter((m) => m.type === 'ready').length
    const port = new URL(url).port
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    await page.locator('.state[data-state="connecting"]').waitFor({ timeout: 10_000 })
    await startExample(port)
    await page.locator('.state[data-state="ready"]').waitFor({ timeout: 60_000 })
    expect((await seen()).filter((m) => m.type === 'ready').length).toBe(readies + 1)
    await page.fill('input[aria-label="question"]', 'Say hello.')
    const before = (await seen()).length
    await page.click('form button[type="submit"]')
    await waitFor((x) => x.slice(before).some((m) => m.type === 'response_complete'))
  }, 120_000)
})
