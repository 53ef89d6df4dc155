import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWsError, writeWav } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { transcribeFile as transcribeFromNode } from './node-rest.js'
import {
  audioDataUrl,
  type DiarizedTranscription,
  responseError,
  transcribeFile,
  transcriptionForm,
  transcriptionUrl,
} from './rest.js'

const WAV = writeWav(new Float32Array(160), 16000)
const DIARIZED: DiarizedTranscription = {
  task: 'transcribe',
  duration: 2,
  text: 'Hi. Hello.',
  segments: [
    { type: 'transcript.text.segment', id: 'seg_0', start: 0, end: 1, text: 'Hi.', speaker: 'A' },
    { type: 'transcript.text.segment', id: 'seg_1', start: 1, end: 2, text: 'Hello.', speaker: 'B' },
  ],
  usage: { type: 'duration', seconds: 2 },
}

/** A fetch that records the request and answers `body` with `status`. */
function fakeFetch(body: string, status = 200, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    return new Response(body, { status, headers })
  }) as typeof globalThis.fetch
  return { calls, fetch }
}

/** A form's text fields as [name, value] pairs, in order. */
function fields(form: FormData): [string, string][] {
  const entries: [string, FormDataEntryValue][] = []
  form.forEach((value, key) => {
    entries.push([key, value])
  })
  return entries.flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []))
}

describe('transcriptionUrl', () => {
  it('the REST path on the server connect() is given, ws becoming http', () => {
    expect(transcriptionUrl('ws://127.0.0.1:8765')).toBe('http://127.0.0.1:8765/v1/audio/transcriptions')
    expect(transcriptionUrl('wss://host/base/ws/transcribe/prompt?token=x')).toBe(
      'https://host/base/v1/audio/transcriptions',
    )
    expect(transcriptionUrl('http://host/', 'translate')).toBe('http://host/v1/audio/translations')
    expect(() => transcriptionUrl('ftp://host')).toThrow(/http/)
  })
})

describe('transcriptionForm', () => {
  it('sends the diarization fields, the hints and known speakers as data URLs', async () => {
    const form = await transcriptionForm(WAV, {
      responseFormat: 'verbose_json',
      diarize: true,
      timestampGranularities: ['word', 'segment'],
      language: 'en',
      numSpeakers: 2,
      minSpeakers: 1,
      maxSpeakers: 3,
      knownSpeakers: [
        { name: 'Alice', audio: WAV },
        { name: 'Bob', audio: new Blob([new Uint8Array([0x49, 0x44, 0x33, 1])]) },
      ],
      filename: 'talk.wav',
    })
    expect(fields(form)).toEqual([
      ['response_format', 'verbose_json'],
      ['language', 'en'],
      ['diarize', 'true'],
      ['num_speakers', '2'],
      ['min_speakers', '1'],
      ['max_speakers', '3'],
      ['timestamp_granularities[]', 'word'],
      ['timestamp_granularities[]', 'segment'],
      ['known_speaker_names[]', 'Alice'],
      ['known_speaker_references[]', `data:audio/wav;base64,${Buffer.from(WAV).toString('base64')}`],
      ['known_speaker_names[]', 'Bob'],
      ['known_speaker_references[]', 'data:audio/mpeg;base64,SUQzAQ=='],
    ])
    const file = form.get('file') as File
    expect(file.name).toBe('talk.wav')
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(WAV)
  })

  it('diarized_json alone asks for speakers; nothing else is sent by default', async () => {
    expect(fields(await transcriptionForm(WAV, { responseFormat: 'diarized_json' }))).toEqual([
      ['response_format', 'diarized_json'],
    ])
    expect(fields(await transcriptionForm(WAV))).toEqual([['response_format', 'json']])
  })

  it('refuses bad hints before sending anything', async () => {
    for (const options of [
      { numSpeakers: 0 },
      { maxSpeakers: 9 },
      { minSpeakers: 1.5 },
      { minSpeakers: 3, maxSpeakers: 2 },
      { knownSpeakers: [{ name: ' ', audio: WAV }] },
    ]) {
      const err = await transcriptionForm(WAV, options).catch((e: unknown) => e)
      expect(isWsError(err, 'invalid_config'), JSON.stringify(options)).toBe(true)
    }
  })

  it('data URLs of large clips', () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251)
    const url = audioDataUrl(big)
    expect(url.startsWith('data:application/octet-stream;base64,')).toBe(true)
    expect(Buffer.from(url.split(',')[1]!, 'base64')).toEqual(Buffer.from(big))
  })
})

describe('transcribeFile', () => {
  it('posts the form with the token and returns the typed diarized answer', async () => {
    const f = fakeFetch(JSON.stringify(DIARIZED))
    const answer = await transcribeFile('ws://h:1', WAV, {
      responseFormat: 'diarized_json',
      token: 'secret',
      fetch: f.fetch,
    })
    expect(answer.segments.map((s) => s.speaker)).toEqual(['A', 'B'])
    expect(f.calls[0]!.url).toBe('http://h:1/v1/audio/transcriptions')
    expect(f.calls[0]!.init.method).toBe('POST')
    expect(f.calls[0]!.init.headers).toEqual({ authorization: 'Bearer secret' })
    expect(f.calls[0]!.init.body).toBeInstanceOf(FormData)
  })

  it('returns text formats as text', async () => {
    const srt = '1\n00:00:00,000 --> 00:00:01,000\n[A] Hi.\n'
    const f = fakeFetch(srt)
    const answer: string = await transcribeFile('http://h', WAV, {
      responseFormat: 'srt',
      diarize: true,
      fetch: f.fetch,
    })
    expect(answer).toBe(srt)
    expect(fields(f.calls[0]!.init.body as FormData)).toContainEqual(['diarize', 'true'])
  })

  it("the server's errors as WsErrors; an unreachable server is connection_failed", async () => {
    const body = JSON.stringify({ error: { message: 'num_speakers must be 1..8', code: 'invalid_config' } })
    const refused = await transcribeFile('http://h', WAV, { fetch: fakeFetch(body, 400).fetch }).catch(
      (e) => e,
    )
    expect(isWsError(refused, 'invalid_config')).toBe(true)
    expect(refused.message).toBe('num_speakers must be 1..8')
    const busy = responseError(429, 'not json', '2')
    expect(busy).toMatchObject({
      code: 'server_busy',
      retryable: true,
      details: { status: 429, retry_after_ms: 2000 },
    })
    const down = await transcribeFile('http://127.0.0.1:1', WAV).catch((e) => e)
    expect(isWsError(down, 'connection_failed')).toBe(true)
  })

  it('in Node, takes the file and the known speakers by path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-client-rest-'))
    try {
      await writeFile(join(dir, 'talk.wav'), WAV)
      await writeFile(join(dir, 'alice.wav'), WAV)
      const f = fakeFetch(JSON.stringify(DIARIZED))
      await transcribeFromNode('http://h', join(dir, 'talk.wav'), {
        responseFormat: 'diarized_json',
        knownSpeakers: [{ name: 'Alice', audio: join(dir, 'alice.wav') }],
        fetch: f.fetch,
      })
      const form = f.calls[0]!.init.body as FormData
      expect((form.get('file') as File).name).toBe('talk.wav')
      expect(form.get('known_speaker_references[]')).toMatch(/^data:audio\/wav;base64,/)
      const missing = await transcribeFromNode('http://h', join(dir, 'none.wav')).catch((e) => e)
      expect(isWsError(missing, 'invalid_config')).toBe(true)
      expect(missing.message).toContain('none.wav')
    } finally {
      await rm(dir, { recursive: true })
    }
  })
})
