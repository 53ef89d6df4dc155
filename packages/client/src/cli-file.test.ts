import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeWav } from '@ws/core'
import { UsageError } from '@ws/core/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FileCommand, fileRequest, formatAnswer, parseSpeakerArg, runFileCommand } from './cli-file.js'
import type { DiarizedTranscription } from './rest.js'

const WAV = writeWav(new Float32Array(160), 16000)
const DIARIZED: DiarizedTranscription = {
  task: 'transcribe',
  duration: 3,
  text: 'Hello there. Hi.',
  segments: [
    { type: 'transcript.text.segment', id: 'seg_0', start: 0, end: 2.31, text: 'Hello there.', speaker: 'A' },
    { type: 'transcript.text.segment', id: 'seg_1', start: 2.4, end: 3, text: 'Hi.', speaker: 'Bob' },
  ],
}

// A stand-in for the server's REST endpoint: keeps each request's form, answers `answer`.
const requests: { url: string; auth: string | undefined; form: FormData }[] = []
let answer: { status: number; body: string } = { status: 200, body: JSON.stringify(DIARIZED) }
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const form = await new Response(Buffer.concat(chunks), {
    headers: { 'content-type': req.headers['content-type'] ?? '' },
  }).formData()
  requests.push({ url: req.url ?? '', auth: req.headers.authorization, form })
  res.writeHead(answer.status, { 'content-type': 'application/json' })
  res.end(answer.body)
})
let url = ''
let dir = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`
  dir = await mkdtemp(join(tmpdir(), 'ws-client-cli-'))
  await writeFile(join(dir, 'talk.wav'), WAV)
  await writeFile(join(dir, 'bob.wav'), WAV)
})
afterAll(async () => {
  server.close()
  await rm(dir, { recursive: true })
})

function command(c: Partial<FileCommand>): FileCommand {
  return { url, input: join(dir, 'talk.wav'), diarize: true, format: 'text', json: false, speakers: [], ...c }
}

async function run(c: FileCommand) {
  const out = { stdout: '', stderr: '' }
  const code = await runFileCommand(c, {
    stdout: (t) => {
      out.stdout += t
    },
    stderr: (t) => {
      out.stderr += t
    },
  })
  return { code, ...out }
}

describe('ws-transcribe <file> --diarize', () => {
  it('asks for diarized_json with the hints and named speakers, and prints the turns', async () => {
    requests.length = 0
    const r = await run(
      command({
        token: 't0k',
        language: 'en',
        numSpeakers: 2,
        speakers: [parseSpeakerArg(`Bob=${join(dir, 'bob.wav')}`)],
      }),
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('[A] 0.00–2.31  Hello there.\n[Bob] 2.40–3.00  Hi.\n')
    expect(r.stderr).toMatch(/^speakers: 2 \(A, Bob\), audio 3\.00 s/)
    const req = requests[0]!
    expect(req.url).toBe('/v1/audio/transcriptions')
    expect(req.auth).toBe('Bearer t0k')
    expect(req.form.get('response_format')).toBe('diarized_json')
    expect(req.form.get('language')).toBe('en')
    expect(req.form.get('num_speakers')).toBe('2')
    expect(req.form.getAll('known_speaker_names[]')).toEqual(['Bob'])
    expect(req.form.get('known_speaker_references[]')).toMatch(/^data:audio\/wav;base64,UklGR/)
    expect((req.form.get('file') as File).name).toBe('talk.wav')
  })

  it('--format srt and vtt: subtitles tagged by speaker', async () => {
    expect((await run(command({ format: 'srt' }))).stdout).toBe(
      '1\n00:00:00,000 --> 00:00:02,310\n[A] Hello there.\n\n2\n00:00:02,400 --> 00:00:03,000\n[Bob] Hi.\n',
    )
    expect((await run(command({ format: 'vtt' }))).stdout).toContain('<v Bob>Hi.\n')
  })

  it('--format srt without --diarize asks for verbose_json; --json prints the answer as it is', async () => {
    expect(fileRequest(command({ diarize: false, format: 'srt' })).responseFormat).toBe('verbose_json')
    const r = await run(command({ json: true }))
    expect(JSON.parse(r.stdout)).toEqual(DIARIZED)
  })

  it('exit codes: 4 for a server error, 3 when unreachable; unreadable files are usage errors', async () => {
    answer = { status: 400, body: JSON.stringify({ error: { message: 'bad hint', code: 'invalid_config' } }) }
    try {
      const refused = await run(command({}))
      expect(refused.code).toBe(4)
      expect(refused.stderr).toBe('ws-transcribe: invalid_config: bad hint\n')
    } finally {
      answer = { status: 200, body: JSON.stringify(DIARIZED) }
    }
    expect((await run(command({ url: 'http://127.0.0.1:1' }))).code).toBe(3)
    await expect(run(command({ input: join(dir, 'none.wav') }))).rejects.toBeInstanceOf(UsageError)
    expect(() => parseSpeakerArg('Bob')).toThrow(/NAME=FILE/)
    expect(() => parseSpeakerArg('=x.wav')).toThrow(/NAME=FILE/)
  })

  it('prints plain text for an answer without speakers', () => {
    const plain = { ...DIARIZED, segments: [{ ...DIARIZED.segments[0]!, speaker: undefined }] }
    expect(formatAnswer(plain as never, 'text')).toBe('Hello there. Hi.\n')
  })
})
