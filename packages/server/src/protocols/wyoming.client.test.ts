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

// Home Assistant's side of Wyoming speech-to-text: the official `wyoming` package (pinned in
// sdk-clients/wyoming.requirements.txt), unmodified, in its own Python process, against the
// real server's Wyoming port (whisper.cpp tiny.en) on real telephone speech: the first three
// prompts of the 30 s English stream (21 s, pauses between them), sent at 8x real time.
const stream = realSpeechFixtures('real-en-long', (f) => f.name === 'stream-30s')[0]!
const SEGMENTS = stream.segments!.slice(0, 3)
const CLIP_END_S = (SEGMENTS[2]!.end + stream.segments![3]!.start) / 2
const audio = stream.audio.subarray(0, Math.round(CLIP_END_S * 16_000))
const text = SEGMENTS.map((s) => s.text).join(' ')
const SPEED = 8
const CLIENTS = fileURLToPath(new URL('./sdk-clients/', import.meta.url))
let server: WhisperStreamServer
let python: string
let scratch: string
let pcm: string
let nativeWer: number

// biome-ignore lint/suspicious/noExplicitAny: JSON lines of several shapes, read field by field
type Message = Record<string, any>

/** Runs wyoming_client.py against the server's Wyoming port; its JSON lines, stderr and exit code. */
async function wyoming(config: Record<string, unknown>) {
  const { port } = server.wyomingAddress()!
  const run = (await runClientWith(
    python,
    'wyoming_client.py',
    { host: '127.0.0.1', port, ...config },
    { PYTHONUNBUFFERED: '1' },
  )) as { events: Message[]; stderr: string; code: number | null }
  const context = `exit ${run.code}\nstderr:\n${run.stderr}\nevents:\n${run.events.map((e) => JSON.stringify(e)).join('\n')}`
  return { ...run, context }
}

beforeAll(async () => {
  const started = performance.now()
  const env = await ensurePythonEnv({
    name: 'wyoming',
    requirementsFile: join(CLIENTS, 'wyoming.requirements.txt'),
  })
  if (env.created)
    console.log(`wyoming: made ${env.venvDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  python = env.python
  scratch = mkdtempSync(join(tmpdir(), 'ws-wyoming-'))
  pcm = join(scratch, 'speech-16k.raw')
  writeFileSync(pcm, rawAudio(audio, 'pcm16', 16_000))
  server = createServer({ model: 'tiny.en', port: 0, wyomingPort: 0 })
  await server.listen()
  nativeWer = wordErrorRate(text, await nativeTranscript(server.url, audio, { speed: SPEED })).wer
  console.log(`native protocol on the same audio: WER ${(nativeWer * 100).toFixed(1)} %`)
}, 600_000)
afterAll(async () => {
  await server?.close({ drainDelayMs: 0 })
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('Wyoming speech-to-text with the official wyoming package', () => {
  it('describe: one asr program with the served model, English-only, streaming transcripts', async () => {
    const { events, code, context } = await wyoming({ mode: 'describe' })
    expect(code, context).toBe(0)
    const info = events.find((e) => e.type === 'info')
    expect(info, context).toMatchObject({
      asr: [
        {
          name: 'whisper-stream',
          installed: true,
          supports_transcript_streaming: true,
          models: [{ name: 'tiny.en', languages: ['en'] }],
        },
      ],
    })
  })

  it('transcribes real speech: transcript-start, chunks as utterances end, transcript, transcript-stop', async () => {
    const { events, code, context } = await wyoming({
      mode: 'transcribe',
      audio: pcm,
      speed: SPEED,
      language: 'en',
    })
    expect(code, context).toBe(0)
    expect(events.at(-1), context).toMatchObject({ type: 'client.done' })
    const answer = events.filter((e) => e.type.startsWith('transcript') || e.type === 'error')
    const types = answer.map((e) => e.type)
    expect(types[0], context).toBe('transcript-start')
    expect(types.slice(-2), context).toEqual(['transcript', 'transcript-stop'])
    expect(
      types.filter((t) => t === 'transcript'),
      context,
    ).toHaveLength(1)
    // The prompts are separate utterances: their chunks stream before the final transcript.
    const chunks = answer.filter((e) => e.type === 'transcript-chunk')
    expect(chunks.length, context).toBeGreaterThanOrEqual(2)
    expect(types.indexOf('transcript'), context).toBeGreaterThan(types.lastIndexOf('transcript-chunk'))
    const transcript = answer.find((e) => e.type === 'transcript')!
    expect(transcript.language, context).toBe('en')
    // Chunks are appended: they join into the transcript.
    expect(chunks.map((c) => c.text).join(''), context).toBe(transcript.text)
    const wer = wordErrorRate(text, transcript.text).wer
    console.log(
      `wyoming: ${chunks.length} chunks (${chunks.filter((c) => !c.sent_stop).length} before audio-stop), WER ${(wer * 100).toFixed(1)} %`,
    )
    expect(wer, transcript.text).toBeLessThanOrEqual(nativeWer + 0.03)
    expect(wer, transcript.text).toBeLessThan(0.15)
    await expect.poll(() => server.connections).toBe(0)
  }, 60_000)

  it('an audio format it cannot take gets an error event and the connection ends', async () => {
    const { events, code, context } = await wyoming({
      mode: 'transcribe',
      format: { rate: 16_000, width: 5, channels: 1 },
      format_only: true,
    })
    expect(code, context).toBe(0)
    expect(
      events.find((e) => e.type === 'error'),
      context,
    ).toMatchObject({
      code: 'unsupported_encoding',
      text: expect.stringContaining('width'),
    })
    expect(
      events.filter((e) => e.type === 'transcript'),
      context,
    ).toEqual([])
    expect(
      events.some((e) => e.type === 'client.closed'),
      context,
    ).toBe(true)
    await expect.poll(() => server.connections).toBe(0)
  })

  it('a client gone mid-stream releases its session; the next one (44.1 kHz stereo, 32-bit) is served', async () => {
    const gone = await wyoming({ mode: 'transcribe', audio: pcm, speed: SPEED, disconnect_after_s: 5 })
    expect(gone.code, gone.context).toBe(0)
    expect(
      gone.events.some((e) => e.type === 'client.disconnected'),
      gone.context,
    ).toBe(true)
    await expect.poll(() => server.connections).toBe(0)
    await expect.poll(() => server.sessions).toBe(0)

    // The first prompt alone, converted by wyoming's own AudioChunkConverter.
    const first = join(scratch, 'first-16k.raw')
    writeFileSync(first, rawAudio(audio.subarray(0, Math.round(2.6 * 16_000)), 'pcm16', 16_000))
    const next = await wyoming({
      mode: 'transcribe',
      audio: first,
      speed: 0,
      format: { rate: 44_100, width: 4, channels: 2 },
    })
    expect(next.code, next.context).toBe(0)
    const transcript = next.events.find((e) => e.type === 'transcript')
    expect(transcript, next.context).toBeDefined()
    expect(wordErrorRate(SEGMENTS[0]!.text, transcript!.text).wer, next.context).toBeLessThan(0.3)
    await expect.poll(() => server.connections).toBe(0)
  }, 30_000)
})
