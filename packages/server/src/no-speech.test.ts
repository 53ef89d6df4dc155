import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { corpusWordErrorRate, encodePcm16le, readWavMono, WHISPER_SAMPLE_RATE, writeWav } from '@ws/core'
import { mixAtSnr, realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { nonSpeechDir, provisionNonSpeech } from '../../../scripts/non-speech.mjs'
import { makeTestCertificates, rawAudio, runClient } from './protocols/drop-in-test-support.js'
import { createServer, type WhisperStreamServer } from './server.js'

// No words where nobody spoke: the non-speech set (real recordings of music, keyboard,
// breathing, crowd, wind, traffic, machinery, animals and beeps, and sox's silence, room
// tone, noise and hum: scripts/non-speech.mjs) through the default server of each local
// engine, as users reach it: each clip as a REST file, and the set joined into one live
// stream (WebRTC VAD, `prompt`, revisions on). Before the guard, whisper.cpp tiny.en gave 51
// words over the whole clips and 33 in the live finals (`pnpm bench`, bench/non-speech.mjs).
// The promise is at most 1 invented word per 10 minutes of non-speech: none in these 3.6.
const SR = WHISPER_SAMPLE_RATE
const clips = provisionNonSpeech({ log: () => {} }).map((c) => ({
  ...c,
  wav: readFileSync(join(nonSpeechDir(), `${c.name}.wav`)),
}))
// The clips one after another, half a second of digital silence between.
const gap = SR / 2
const audios = clips.map((c) => readWavMono(c.wav).samples)
const stream = new Float32Array(audios.reduce((n, a) => n + a.length + gap, 0))
audios.reduce((at, a) => {
  stream.set(a, at)
  return at + a.length + gap
}, 0)
const minutes = stream.length / SR / 60
const allowed = Math.floor(minutes / 10)
const words = (text: string) => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w))
// Speech under 10 dB of noise must still come through: 10 real clips (tiny.en read 7.9 % on
// the 80 with the guard and without, at greedy on whisper.cpp).
const noisy = realSpeechFixtures('real-en')
  .slice(0, 10)
  .map((f) => ({ ...f, audio: mixAtSnr(f.audio, 10, { seed: 3 }).mixed }))

async function rest(server: WhisperStreamServer, wav: Uint8Array, name: string): Promise<string> {
  const form = new FormData()
  form.set('file', new Blob([wav], { type: 'audio/wav' }), name)
  form.set('model', 'whisper-1')
  const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return ((await res.json()) as { text: string }).text
}

// Two real sentences (27 words), then the set: prompted with real words, Whisper says more
// over noise than with nothing before ("www.beadaholique.com for more information on the
// website.", "I'm not a fan of the"), so the guard is measured there too.
const lead = realSpeechFixtures('real-en').slice(0, 2)
const leadSamples = lead.reduce((n, f) => n + f.audio.length + gap, 0)
const afterSpeech = new Float32Array(leadSamples + stream.length)
lead.reduce((at, f) => {
  afterSpeech.set(f.audio, at)
  return at + f.audio.length + gap
}, 0)
afterSpeech.set(stream, leadSamples)

type Kind = 'partial' | 'final' | 'revision'
/**
 * The stream through a live session at `speed`× real time: each kind of message's text, all
 * of it and (`after`) that of the utterances starting at or after `afterSeconds`.
 */
async function live(server: WhisperStreamServer, audio: Float32Array, speed: number, afterSeconds = 0) {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws/transcribe/prompt`)
  const texts: Record<Kind, string[]> = { partial: [], final: [], revision: [] }
  const after: Record<Kind, string[]> = { partial: [], final: [], revision: [] }
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { type: Kind; text?: string; audio_start?: number }
    if (!(m.type in texts) || !m.text) return
    texts[m.type].push(m.text)
    if ((m.audio_start ?? 0) >= afterSeconds) after[m.type].push(m.text)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const frame = SR / 10
  const started = performance.now()
  for (let i = 0, n = 0; i < audio.length; i += frame, n++) {
    ws.send(encodePcm16le(audio.subarray(i, i + frame)))
    const wait = started + ((n + 1) * 100) / speed - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  return { ...texts, after }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON events of several shapes, read field by field
type Message = Record<string, any>

/**
 * The set through the drop-ins at once, each as an app sends it with its official SDK (`openai`
 * Realtime, `@deepgram/sdk` live), in its own process, at `speed`× real time: the words of the
 * Realtime transcripts and of Deepgram's final and interim results.
 */
async function dropIns(backend: 'whispercpp' | 'faster', speed: number) {
  // The openai client speaks only wss: a server of the same defaults over TLS, with a test CA.
  const tls = makeTestCertificates()
  const server = createServer({
    backend,
    model: 'tiny.en',
    port: 0,
    demo: false,
    tlsCert: tls.cert,
    tlsKey: tls.key,
  })
  try {
    await server.listen()
    const [pcm24, pcm16] = [join(tls.dir, 'set-24k.raw'), join(tls.dir, 'set-16k.raw')]
    writeFileSync(pcm24, rawAudio(stream, 'pcm16', 24_000))
    writeFileSync(pcm16, rawAudio(stream, 'pcm16', 16_000))
    const timeoutMs = ((stream.length / SR) * 1000) / speed + 30_000
    const [openai, deepgram] = await Promise.all([
      runClient(
        'openai-realtime',
        {
          module: 'openai',
          shape: 'ga-intent',
          baseURL: `${server.url}/v1`,
          apiKey: 'sk-any',
          audio: pcm24,
          speed,
          timeoutMs,
        },
        { NODE_EXTRA_CA_CERTS: tls.ca },
      ),
      runClient(
        'deepgram-live',
        {
          module: '@deepgram/sdk',
          version: 5,
          url: server.url.replace(/^http/, 'ws'),
          apiKey: 'dg-any',
          audio: pcm16,
          query: { encoding: 'linear16', sample_rate: 16000, channels: 1, interim_results: true },
          speed,
          timeoutMs,
        },
        { NODE_EXTRA_CA_CERTS: tls.ca },
      ),
    ])
    const events = (r: { events: Message[] }, type: string) => r.events.filter((e) => e.type === type)
    const results = events(deepgram, 'Results')
    const texts = (ms: Message[]) =>
      ms.map((m) => m.channel.alternatives[0].transcript as string).filter(Boolean)
    return {
      committed: events(openai, 'input_audio_buffer.committed').length,
      realtime: events(openai, 'conversation.item.input_audio_transcription.completed')
        .map((e) => e.transcript as string)
        .filter(Boolean),
      realtimeErrors: [...events(openai, 'error'), ...events(openai, 'client.error')],
      results: results.length,
      deepgramFinal: texts(results.filter((m) => m.is_final)),
      deepgramInterim: texts(results.filter((m) => !m.is_final)),
      deepgramClose: events(deepgram, 'client.close')[0]?.code,
    }
  } finally {
    await server.close({ drainDelayMs: 0 })
    rmSync(tls.dir, { recursive: true, force: true })
  }
}

describe.each([
  ['whisper.cpp', 'whispercpp'],
  ['faster-whisper', 'faster'],
] as const)('no words where nobody spoke: %s, the default server', (_, backend) => {
  let server: WhisperStreamServer
  beforeAll(async () => {
    server = createServer({ backend, model: 'tiny.en', port: 0, demo: false })
    await server.listen()
  }, 600_000)
  afterAll(async () => {
    await server?.close({ drainDelayMs: 0 })
  })

  it(`gives no text for any non-speech file over REST, and still hears speech under 10 dB of noise`, async () => {
    const invented: string[] = []
    for (const c of clips) {
      const text = await rest(server, c.wav, `${c.name}.wav`)
      if (words(text).length) invented.push(`${c.name}: ${text}`)
    }
    console.log(
      `${backend} REST, ${clips.length} non-speech clips (${minutes.toFixed(1)} min): ${invented.length ? invented.join('; ') : 'no words'}`,
    )
    expect(invented.flatMap(words).length, invented.join('\n')).toBeLessThanOrEqual(allowed)
    const pairs = []
    for (const f of noisy)
      pairs.push({
        reference: f.text,
        hypothesis: await rest(server, writeWav(f.audio, SR), `${f.name}.wav`),
      })
    const wer = corpusWordErrorRate(pairs)
    console.log(
      `${backend} REST, ${noisy.length} real clips under 10 dB noise: WER ${(wer * 100).toFixed(1)} %`,
    )
    expect(wer).toBeLessThan(0.15)
  }, 300_000)

  it('gives no words through the OpenAI Realtime and Deepgram drop-ins (official SDKs)', async () => {
    // The set alone, live: both drop-ins are adapters over the one streaming session, so this
    // is also the check of the native session on the set with nothing said before (finals none,
    // interim results at most 2); the test after it streams the set natively after speech,
    // revisions included. (The native stream of the set alone, a test of its own until 2026-11-29,
    // gave no final, revision or partial word on either engine.)
    const r = await dropIns(backend, 12)
    console.log(
      `${backend} drop-ins, ${minutes.toFixed(1)} min of non-speech at 12× real time, both at once: Realtime ${r.committed} items committed, transcripts ${JSON.stringify(r.realtime)}; Deepgram ${r.results} results, finals ${JSON.stringify(r.deepgramFinal)}, interim ${JSON.stringify(r.deepgramInterim)}`,
    )
    expect(r.realtimeErrors, JSON.stringify(r.realtimeErrors)).toEqual([])
    // WebRTC calls much of the set speech, so turns are committed and transcribed: as nothing.
    expect(r.committed).toBeGreaterThan(0)
    expect(r.realtime.flatMap(words).length, 'Realtime transcripts').toBeLessThanOrEqual(allowed)
    expect(r.results).toBeGreaterThan(0)
    expect(r.deepgramFinal.flatMap(words).length, 'Deepgram finals').toBeLessThanOrEqual(allowed)
    expect(r.deepgramInterim.flatMap(words).length, 'Deepgram interim').toBeLessThanOrEqual(2)
    expect(r.deepgramClose).toBe(1000)
  }, 300_000)

  it('after real speech, hears the speech and gives no final or revision words over the set', async () => {
    // Measured on 2 × AMD EPYC (Zen 4), the words after the speech here (12×): whisper.cpp
    // finals 0, revisions 0, partials 0; faster-whisper 0, 0, 0. Before the rule for vocal
    // sounds (`VOCAL_SOUNDS`), whisper.cpp's finals and revisions said "Pfft!" twice (surely: no
    // speech 0.54, log-probability -0.45); before the rules for drawn-out sounds and for
    // previews, at real time on a virtual clock, whisper.cpp finals 4 ("AHHHHHH…!"), partials
    // 11; faster-whisper partials about 100 ("I'm not a fan of the" ×9). Partials, replaced
    // within a second, may still say a few (faster-whisper at real time: 11, "Beep, beep.").
    const texts = await live(server, afterSpeech, 12, leadSamples / SR - 0.3)
    const heard = texts.final.filter((t) => !texts.after.final.includes(t)).join(' ')
    const said = (kind: Kind) => texts.after[kind].flatMap(words)
    console.log(
      `${backend} live, 2 real sentences then ${minutes.toFixed(1)} min of non-speech at 12× real time: heard "${heard}"; after the speech finals ${JSON.stringify(texts.after.final)}, revisions ${JSON.stringify(texts.after.revision)}, partials ${JSON.stringify(texts.after.partial)}`,
    )
    const reference = lead.map((f) => f.text).join(' ')
    expect(corpusWordErrorRate([{ reference, hypothesis: heard }])).toBeLessThan(0.1)
    expect(said('final').length, 'finals').toBeLessThanOrEqual(allowed)
    expect(said('revision').length, 'revisions').toBeLessThanOrEqual(allowed)
    expect(said('partial').length, 'partials').toBeLessThanOrEqual(20)
  }, 300_000)
})
