import { DeepgramClient } from '@deepgram/sdk'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { encodePcm16le, type Segment, segmentTimesProblem, writeWav } from '@ws/core'
import { type LoadedRealSpeech, realConversation, realSpeechFixtures } from '@ws/core/testing'
import { diarizationErrorRate } from '@ws/diarize'
import OpenAI, { BadRequestError, toFile } from 'openai'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { ListenResponse } from './rest-deepgram.js'
import { createServer, type WhisperStreamServer } from './server.js'
import { TestClient } from './test-client.js'

// Who said what, through the server: a conversation of the two leading voices of Fish Fillets
// NG's Dutch dub (real voice actors, short turns, reference turns from the builder),
// transcribed by the real multilingual `base` on whisper.cpp, speakers by `@ws/diarize`.
const nl = realSpeechFixtures('real-nl')
const voice = (clips: LoadedRealSpeech[]) => clips.filter((c) => c.speechEnd - c.speechStart >= 1.5)
const small = voice(nl.filter((c) => c.voice?.endsWith('small fish')))
const big = voice(nl.filter((c) => c.voice?.endsWith('big fish')))
// The last clip of each voice is kept out of the conversation: its reference for naming.
const conv = realConversation({ small: small.slice(0, -1), big: big.slice(0, -1) }, { seed: 2, turns: 18 })
const wav = writeWav([conv.audio], 16_000)
// Six turns of the same clips (both voices), for checks of a shape rather than of how well
// speakers are found.
const brief = realConversation({ small: small.slice(0, -1), big: big.slice(0, -1) }, { seed: 2, turns: 6 })
const dataUrl = (clip: LoadedRealSpeech) =>
  `data:audio/wav;base64,${Buffer.from(writeWav([clip.audio], 16_000)).toString('base64')}`

let backend: WhisperCppBackend
let server: WhisperStreamServer
const openai = () => new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 })

beforeAll(async () => {
  // Live finals on the fitted window: speakers are what is checked (live DER 6.3 % against 5.2 %
  // with full-window finals), and full-window finals of `base` took most of the live tests' time.
  backend = new WhisperCppBackend({ finalWindow: 'fitted' })
  await backend.loadModel('base')
  // Nothing else runs here: the speaker model gets both cores (the same turns, 0.6 of the time).
  server = createServer({
    backend,
    model: 'base',
    port: 0,
    speakerThreads: 2,
    logger: pino({ level: 'silent' }),
  })
  await server.listen()
}, 120_000)
afterAll(async () => {
  await server?.close()
  await backend?.close()
})

/** Speaker turns: the labelled segments (split where the speaker changes). */
const turnsOf = (segments: readonly Segment[]) =>
  segments.map((s) => ({ speaker: s.speaker ?? '?', start: s.start, end: s.end }))

/**
 * Speakers scored as delivered: DER of what an answer's segments say against the reference
 * turns. Segments span their words; a reference turn runs to the end of its clip's reverb
 * (the game's studio: the level falls 10–20 dB after the last word, then decays for 0.5–0.8 s),
 * which no word covers — missed speech, not a wrong speaker (12.8 % DER when segments carried
 * Whisper's timestamps, which covered the tails; 19.1 % timed by their words, 16.1 % of it
 * missed and none confusion). So speakers are bounded by confusion, and DER loosely.
 */
function scoreSpeakers(label: string, segments: readonly Segment[]) {
  const der = diarizationErrorRate(conv.turns, turnsOf(segments))
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`
  console.log(
    `${label}: ${segments.length} segments, DER ${pct(der.der)} (missed ${pct(der.missed / der.scored)}, false alarm ${pct(der.falseAlarm / der.scored)}, confusion ${pct(der.confusion / der.scored)})`,
  )
  expect(der.confusion / der.scored).toBeLessThanOrEqual(0.05)
  expect(der.der).toBeLessThanOrEqual(0.25)
  return der
}

describe('POST /v1/audio/transcriptions with speakers (OpenAI SDK)', () => {
  it('answers diarized_json in OpenAI’s shape: both voices found, segments split where the speaker changes', async () => {
    const r = (await openai().audio.transcriptions.create({
      file: await toFile(wav, 'meeting.wav'),
      model: 'gpt-4o-transcribe-diarize',
      response_format: 'diarized_json',
      language: 'nl',
    })) as unknown as OpenAI.Audio.TranscriptionDiarized
    expect(r.task).toBe('transcribe')
    expect(r.duration).toBeCloseTo(conv.audio.length / 16_000, 1)
    expect(r.segments[0]).toMatchObject({ type: 'transcript.text.segment', id: 'seg_0', speaker: 'A' })
    expect(new Set(r.segments.map((s) => s.speaker))).toEqual(new Set(['A', 'B']))
    // Timed by their words: in order, no overlap (one speaker per word), none of zero length.
    expect(segmentTimesProblem(r.segments, { tolerance: 0.0015 })).toBeUndefined()
    scoreSpeakers('diarized_json', r.segments as Segment[])
    expect(r.text.length).toBeGreaterThan(100)
  }, 180_000)

  it('names speakers from known_speaker_references, and puts speaker on verbose_json segments and words', async () => {
    const r = (await openai().audio.transcriptions.create({
      file: await toFile(wav, 'meeting.wav'),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'nl',
      // Fields of this server (and OpenAI's diarizing models), sent as the SDK sends any field.
      ...({
        diarize: 'true',
        known_speaker_names: ['Agnes', 'Bert'],
        known_speaker_references: [dataUrl(small.at(-1)!), dataUrl(big.at(-1)!)],
      } as object),
    })) as unknown as { segments: Segment[]; words?: { speaker?: string; start: number; end: number }[] }
    expect(new Set(r.segments.map((s) => s.speaker))).toEqual(new Set(['Agnes', 'Bert']))
    expect(r.words?.length).toBeGreaterThan(20)
    expect(r.words?.every((w) => w.speaker !== undefined)).toBe(true)
    expect(segmentTimesProblem(r.segments, { words: r.words, tolerance: 0.0015 })).toBeUndefined()
    expect(r.segments[0]!.start).toBeGreaterThanOrEqual(r.words![0]!.start)
    const der = scoreSpeakers('verbose_json', r.segments)
    expect(der.mapping.get('Agnes')).toBe('small')
    // The segments score as their words do, within a few points (21.1 % by words: the pauses
    // after a full stop, between one word's end and the next one's start, count as missed).
    const byWords = diarizationErrorRate(conv.turns, turnsOf(r.words as Segment[]))
    console.log(`verbose_json: DER by words ${(byWords.der * 100).toFixed(1)} %`)
    expect(Math.abs(der.der - byWords.der)).toBeLessThanOrEqual(0.03)
  }, 180_000)

  it('tags SRT cues with their speaker, and refuses bad diarization fields with 400 before decoding', async () => {
    const srt = (await openai().audio.transcriptions.create({
      file: await toFile(writeWav([brief.audio], 16_000), 'meeting.wav'),
      model: 'whisper-1',
      response_format: 'srt',
      language: 'nl',
      ...({ diarize: 'true', num_speakers: '2' } as object),
    })) as unknown as string
    expect(srt).toMatch(/^1\n00:00:\d\d,\d{3} --> .*\n\[A\] /)
    expect(srt).toContain('[B] ')
    for (const [fields, param] of [
      [{ diarize: 'yes' }, 'diarize'],
      [{ diarize: 'true', num_speakers: '0' }, 'num_speakers'],
      [{ diarize: 'true', min_speakers: '3', max_speakers: '2' }, 'min_speakers'],
      [{ diarize: 'true', known_speaker_names: ['Agnes'] }, 'known_speaker'],
      [
        { diarize: 'true', known_speaker_names: ['Agnes'], known_speaker_references: ['https://x/a.wav'] },
        'data: URL',
      ],
    ] as const) {
      const err = await openai()
        .audio.transcriptions.create({
          file: await toFile(new Uint8Array(wav.subarray(0, 64_044)), 'a.wav'),
          model: 'whisper-1',
          ...(fields as object),
        })
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BadRequestError)
      expect((err as BadRequestError).code).toBe('invalid_config')
      expect((err as BadRequestError).message).toContain(param)
    }
  }, 180_000)
})

describe('a live session with diarize=true', () => {
  it('labels each final’s segments and words with speakers consistent across the session: confusion at most 5 percent with whisper’s own finals', async () => {
    const client = new TestClient(
      `${server.url.replace(/^http/, 'ws')}/ws/transcribe/prompt?diarize=true&language=nl`,
    )
    await client.opened
    await client.stream(conv.audio, { speed: 4 })
    await client.end()
    const finals = client.of('final')
    const segments = finals.flatMap((f) => f.segments)
    expect(segments.length).toBeGreaterThan(5)
    expect(
      segments.every((s) => s.speaker !== undefined && s.words?.every((w) => w.speaker === s.speaker)),
    ).toBe(true)
    for (const f of finals) expect(segmentTimesProblem(f.segments)).toBeUndefined()
    const speakers = [...new Set(segments.map((s) => s.speaker))]
    expect(speakers).toEqual(['A', 'B'])
    // 6.3 % DER when segments carried Whisper's timestamps, confusion 3.1 % (15.2 % before the
    // centroids' fit was scaled by their size and a final's speakers chosen along the path of
    // best fit).
    scoreSpeakers(`live, ${finals.length} finals`, segments)
  }, 240_000)
})

describe('Deepgram live with diarize=true', () => {
  it('numbers each word’s speaker from 0, as Deepgram does', async () => {
    const query = 'diarize=true&language=nl&encoding=linear16&sample_rate=16000&channels=1'
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/listen?${query}`, {
      headers: { authorization: 'Token unused' },
    })
    const words: { speaker?: number; start: number; end: number }[] = []
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as {
        type: string
        is_final?: boolean
        channel?: { alternatives: { words: typeof words }[] }
      }
      if (m.type === 'Results' && m.is_final) words.push(...(m.channel?.alternatives[0]?.words ?? []))
    })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise((resolve) => ws.once('close', resolve))
    const pcm = encodePcm16le(brief.audio)
    for (let at = 0; at < pcm.length; at += 6400) ws.send(pcm.subarray(at, at + 6400))
    ws.send(JSON.stringify({ type: 'CloseStream' }))
    await closed
    expect(words.length).toBeGreaterThan(20)
    expect(new Set(words.map((w) => w.speaker))).toEqual(new Set([0, 1]))
    expect(words[0]?.speaker).toBe(0)
  }, 240_000)
})

describe('Deepgram pre-recorded with diarize=true', () => {
  it('numbers each word’s and utterance’s speaker from 0 (Deepgram’s SDK 5), both voices found', async () => {
    const deepgram = new DeepgramClient({ apiKey: 'unused', baseUrl: server.url, maxRetries: 0 })
    const response = (await deepgram.listen.v1.media.transcribeFile(Buffer.from(wav), {
      model: 'nova-3',
      language: 'nl',
      diarize: true,
      utterances: true,
      smart_format: true,
    })) as unknown as ListenResponse
    const words = response.results.channels[0]?.alternatives[0]?.words ?? []
    const utterances = response.results.utterances ?? []
    expect(words.length).toBeGreaterThan(20)
    expect(words.every((w) => w.speaker === 0 || w.speaker === 1)).toBe(true)
    expect(words[0]?.speaker).toBe(0)
    // Utterances are split where the speaker changes: each utterance's words are its speaker's.
    expect(utterances.every((u) => u.words.every((w) => w.speaker === u.speaker))).toBe(true)
    const timed = utterances.map((u) => ({ start: u.start, end: u.end, text: u.transcript, words: u.words }))
    expect(segmentTimesProblem(timed, { tolerance: 0.0015 })).toBeUndefined()
    scoreSpeakers(
      'Deepgram pre-recorded',
      utterances.map((u) => ({ speaker: String(u.speaker), start: u.start, end: u.end, text: u.transcript })),
    )
    expect(new Set(utterances.map((u) => u.speaker))).toEqual(new Set([0, 1]))
  }, 180_000)
})
