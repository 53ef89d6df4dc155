import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { wordErrorRate } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { cacheDir, findPython, run } from '@ws/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type WhisperStreamServer } from '../server.js'
import { nativeTranscript, rawAudio } from './drop-in-test-support.js'

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

/**
 * A venv with a pinned requirements file, under the cache dir keyed by the file's hash, as
 * @ws/backend-faster makes its own: built beside its place and renamed into it, so a run never
 * sees half of one, and made once. Fails with the failing step's last lines.
 */
async function pythonEnv(name: string, requirementsFile: string): Promise<string> {
  const digest = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex').slice(0, 12)
  const dir = join(cacheDir(), 'venv', `${name}-${digest}`)
  const bin = (venv: string) =>
    process.platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python')
  if (existsSync(join(dir, '.ws-ready'))) return bin(dir)
  const base = (await findPython({ minVersion: [3, 9], modules: ['venv', 'pip'] })).command
  const building = `${dir}.building-${process.pid}`
  rmSync(building, { recursive: true, force: true })
  mkdirSync(join(dir, '..'), { recursive: true })
  const step = async (what: string, command: string, args: string[]) => {
    const { code, output } = await run(command, args)
    if (code !== 0) {
      rmSync(building, { recursive: true, force: true })
      throw new Error(`${what} failed (exit ${code}):\n${output.trim().split('\n').slice(-15).join('\n')}`)
    }
  }
  const started = performance.now()
  await step(`${base} -m venv`, base, ['-m', 'venv', building])
  await step(`pip install -r ${requirementsFile}`, bin(building), [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '--progress-bar',
    'off',
    '-r',
    requirementsFile,
  ])
  writeFileSync(join(building, '.ws-ready'), digest)
  if (!existsSync(join(dir, '.ws-ready'))) rmSync(dir, { recursive: true, force: true })
  try {
    renameSync(building, dir)
  } catch (err) {
    // Another run finished first: use its venv.
    rmSync(building, { recursive: true, force: true })
    if (!existsSync(join(dir, '.ws-ready'))) throw err
  }
  console.log(`${name}: made ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return bin(dir)
}

/** Runs `sdk-clients/<script>` in the venv, as a user's app runs: JSON lines on stdout. */
function runPython(script: string, config: Record<string, unknown>) {
  return new Promise<{ events: Message[]; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn(python, [join(CLIENTS, script)], {
      cwd: CLIENTS,
      env: { ...process.env, CLIENT: JSON.stringify(config), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      out += d.toString()
    })
    child.stderr.on('data', (d) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const events = out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          try {
            return JSON.parse(line) as Message
          } catch {
            return { type: 'client.stdout', line }
          }
        })
      resolve({ events, stderr, code })
    })
  })
}

beforeAll(async () => {
  python = await pythonEnv('livekit-deepgram', join(CLIENTS, 'livekit_deepgram.requirements.txt'))
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
