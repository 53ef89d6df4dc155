import { readFileSync } from 'node:fs'
import { encodePcm16le } from '@ws/core'
import { WebSocket } from 'ws'

export { makeTestCertificates, rawAudio, runClient, runClientWith } from './sdk-clients/support.mjs'

/**
 * The same audio through this server's own protocol (`prompt`, no revisions: what the drop-in
 * protocols serve), at `speed`× real time in 100 ms frames: the finals' text, for comparison.
 */
export async function nativeTranscript(
  baseUrl: string,
  audio: Float32Array,
  options: { ca?: string; token?: string; speed?: number } = {},
): Promise<string> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws/transcribe/prompt?revisions=false${options.token ? `&token=${options.token}` : ''}`
  const ws = new WebSocket(url, options.ca ? { ca: readFileSync(options.ca) } : {})
  const finals: string[] = []
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { type: string; text?: string }
    if (m.type === 'final' && m.text) finals.push(m.text)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const frame = 1600
  const started = performance.now()
  for (let i = 0, n = 0; i < audio.length; i += frame, n++) {
    ws.send(encodePcm16le(audio.subarray(i, i + frame)))
    const wait = started + ((n + 1) * 100) / (options.speed ?? 4) - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  return finals.join(' ')
}
