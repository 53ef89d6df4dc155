import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensurePythonEnv } from '@ws/backend-faster'
import { wordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from '../server.js'
import { nativeTranscript, rawAudio, runClientWith } from './drop-in-test-support.js'

// A Python voice-agent framework's Deepgram STT, unmodified but for its base URL: LiveKit
// Agents' `livekit-plugins-deepgram` (pinned in sdk-clients/livekit_deepgram.requirements.txt),
// in its own Python process, against the real server (whisper.cpp tiny.en) on 28 s of real
// telephone speech, as deepgram.test.ts runs the JS SDKs. The plugin asks for its defaults
// (nova-3, interim results, vad_events, endpointing=25, punctuate, language=en-US), sends
// KeepAlive at once and every 5 s, audio in 50 ms frames, then Finalize and CloseStream.
const stream = realSpeechFixtures('real-en-long', (f) => f.name === 'stream-30s')[0]!
const TOKEN = 'dg-local-test'
const CLIENTS = fileURLToPath(new URL('./sdk-clients/', import.meta.url))
let server: WhisperStreamServer
let python: string
let scratch: string
let pcm: string
let nativeWer: number

// biome-ignore lint/suspicious/noExplicitAny: JSON lines of several shapes, read field by field
type Message = Record<string, any>

/** Runs `sdk-clients/<script>` in the venv, as a user's app runs: JSON lines on stdout. */
function runPython(
  script: string,
  config: Record<string, unknown>,
): Promise<{ events: Message[]; stderr: string; code: number | null }> {
  return runClientWith(python, script, config, { PYTHONUNBUFFERED: '1' }) as Promise<{
    events: Message[]
    stderr: string
    code: number | null
  }>
}

beforeAll(async () => {
  // A venv keyed by the pinned file's hash, made once, as @ws/backend-faster makes its own.
  const started = performance.now()
  const env = await ensurePythonEnv({
    name: 'livekit-deepgram',
    requirementsFile: join(CLIENTS, 'livekit_deepgram.requirements.txt'),
  })
  if (env.created)
    console.log(
      `livekit-deepgram: made ${env.venvDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
  python = env.python
  scratch = mkdtempSync(join(tmpdir(), 'ws-python-clients-'))
  pcm = join(scratch, 'speech-16k.raw')
  writeFileSync(pcm, rawAudio(stream.audio, 'pcm16', 16_000))
  server = createServer({ model: 'tiny.en', port: 0, authToken: TOKEN })
  await server.listen()
  nativeWer = wordErrorRate(
    stream.text,
    await nativeTranscript(server.url, stream.audio, { token: TOKEN }),
  ).wer
  console.log(`native protocol on the same audio: WER ${(nativeWer * 100).toFixed(1)} %`)
}, 600_000)
afterAll(async () => {
  await server?.close({ drainDelayMs: 0 })
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('Deepgram live with a Python voice-agent framework', () => {
  it('LiveKit Agents deepgram.STT: final transcripts, turns, one connection, no errors', async () => {
    const { events, stderr, code } = await runPython('livekit_deepgram.py', {
      url: `${server.url}/v1/listen`,
      apiKey: TOKEN,
      audio: pcm,
      speed: 4,
    })
    const context = `exit ${code}\nstderr:\n${stderr}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}`
    expect(code, context).toBe(0)
    expect(events.at(-1), context).toMatchObject({ type: 'client.done' })
    expect(
      events.filter((e) => e.type === 'client.error' || e.type === 'client.exception'),
      context,
    ).toEqual([])
    // Reconnects (the plugin's answer to an unexpected close) would show as more.
    expect(
      events.filter((e) => e.type === 'client.connected'),
      context,
    ).toHaveLength(1)

    const finals = events.filter((e) => e.type === 'final_transcript')
    expect(finals.length, context).toBeGreaterThanOrEqual(4)
    let previousEnd = 0
    for (const f of finals) {
      expect(f, context).toMatchObject({ request_id: expect.any(String), language: 'en-US' })
      expect(f.text.trim(), context).not.toBe('')
      expect(f.words, context).toBeGreaterThan(0)
      expect(f.start_time, context).toBeGreaterThanOrEqual(previousEnd - 0.5)
      expect(f.end_time, context).toBeLessThanOrEqual(stream.durationSeconds + 0.1)
      previousEnd = f.end_time
    }
    expect(events.some((e) => e.type === 'interim_transcript')).toBe(true)
    // SpeechStarted and speech_final become the agent's turns.
    expect(events.filter((e) => e.type === 'start_of_speech').length).toBeGreaterThanOrEqual(4)
    expect(events.filter((e) => e.type === 'end_of_speech').length).toBeGreaterThanOrEqual(4)

    const transcript = finals.map((f) => f.text).join(' ')
    const wer = wordErrorRate(stream.text, transcript).wer
    console.log(`LiveKit deepgram.STT: ${finals.length} finals, WER ${(wer * 100).toFixed(1)} %`)
    expect(wer, transcript).toBeLessThanOrEqual(nativeWer + 0.02)
    expect(wer, transcript).toBeLessThan(0.12)
    await expect.poll(() => server.connections).toBe(0)
  }, 120_000)
})
