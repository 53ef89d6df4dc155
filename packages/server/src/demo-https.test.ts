import { rmSync } from 'node:fs'
import { corpusWordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_PATH, launchSpeaking } from './chromium.js'
import { makeTestCertificates } from './protocols/sdk-clients/support.mjs'
import { createServer, type WhisperStreamServer } from './server.js'

// The demo page over TLS, as a user reaches a server on another machine: a browser gives the
// microphone only to a secure context, which off localhost means https. Chromium resolves a
// host name that is not localhost (demo.test) to the server, whose certificate a test CA signed.
// A real recording (one sentence, 3.4 s), as in demo.test.ts: the espeak sentence this test
// used read 20–40 % on the finals' default full window over three runs, 10–30 % fitted.
const [speech] = realSpeechFixtures('real-en', (f) => f.name === 'confbridge-only-one')
const MAX_WER = 0.35

describe.skipIf(!CHROMIUM_PATH)('demo page over https', () => {
  const tls = makeTestCertificates()
  let server: WhisperStreamServer
  let mic: Awaited<ReturnType<typeof launchSpeaking>> | undefined

  beforeAll(async () => {
    const { pino } = await import('pino')
    server = createServer({ port: 0, tlsCert: tls.cert, tlsKey: tls.key, logger: pino({ level: 'silent' }) })
    await server.listen()
    mic = await launchSpeaking(speech!, ['--host-resolver-rules=MAP demo.test 127.0.0.1'])
  }, 300_000)

  afterAll(async () => {
    await mic?.close()
    await server?.close()
    rmSync(tls.dir, { recursive: true, force: true })
  })

  it('is a secure context off localhost and streams the microphone over wss', async () => {
    // The test CA is not in Chromium's store: its certificate errors are waived for the page.
    const context = await mic!.browser.newContext({ ignoreHTTPSErrors: true })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    const sockets: string[] = []
    page.on('websocket', (ws) => sockets.push(ws.url()))
    const { port } = new URL(server.url)
    expect(server.url).toMatch(/^https:/)
    await page.goto(`https://demo.test:${port}/`)
    expect(await page.evaluate('window.isSecureContext')).toBe(true)
    await page.selectOption('#strategy', 'prompt')
    await page.click('#start')
    await page.waitForSelector('#finals li', { timeout: 60_000 })
    const text = (await page.locator('#finals li').first().textContent()) ?? ''
    const finalText = text.replace(/\s[\d.]+–[\d.]+ s, \d+ ms$/, '')
    const wer = corpusWordErrorRate([{ reference: speech!.text, hypothesis: finalText }])
    console.log(`demo page over https: final "${finalText}", WER ${(wer * 100).toFixed(1)}%`)
    expect(wer).toBeLessThanOrEqual(MAX_WER)
    expect(sockets.length).toBeGreaterThan(0)
    expect(sockets.every((url) => url.startsWith(`wss://demo.test:${port}/`))).toBe(true)
    await page.click('#stop')
    await page.locator('#status', { hasText: 'Stopped' }).waitFor({ timeout: 30_000 })
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
