import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, readWavMono } from '@ws/core'
import { createVad } from '@ws/vad-webrtc'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatMessage, ChatModel, ChatStreamOptions } from './chat-model.js'
import { OpenAiChatModel } from './chat-model.js'
import { LocalChatModel } from './local-chat-model.js'
import { spokenQuestion, VoiceTestClient } from './test-support.js'
import { EspeakSynthesizer } from './tts.js'
import { createVoiceServer, type VoiceServer } from './voice-server.js'

// /voice/stream end to end on this machine: whisper.cpp tiny.en hears the question, the real
// local model (SmolLM2-135M-Instruct through node-llama-cpp) answers, espeak-ng speaks it.

/** The real model, with every conversation it was given kept for the assertions. */
class Recorded implements ChatModel {
  readonly name: string
  readonly calls: ChatMessage[][] = []
  constructor(readonly inner: ChatModel) {
    this.name = inner.name
  }
  stream(messages: readonly ChatMessage[], options: ChatStreamOptions): AsyncIterable<string> {
    this.calls.push([...messages])
    return this.inner.stream(messages, options)
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

let backend: WhisperCppBackend
let chat: Recorded
let server: VoiceServer
let url: string
let question: Float32Array
/** VADs the server made, and closed: each recording's own, closed with it. */
const vads = { made: 0, closed: 0 }
const countedVad = async () => {
  const vad = await createVad()
  vads.made++
  const close = vad.close.bind(vad)
  vad.close = () => {
    vads.closed++
    return close()
  }
  return vad
}
const QUESTION = 'What is the capital of France?'

beforeAll(async () => {
  backend = new WhisperCppBackend()
  await backend.loadModel('tiny.en')
  const local = new LocalChatModel()
  await local.load()
  chat = new Recorded(local)
  server = createVoiceServer({
    backend,
    createVad: countedVad,
    chat,
    tts: new EspeakSynthesizer(),
    port: 0,
    maxTokens: 60,
  })
  await server.listen()
  url = `${server.url.replace('http', 'ws')}/voice/stream`
  question = await spokenQuestion(QUESTION)
}, 300_000)

afterAll(async () => {
  await server?.close()
  await chat?.close()
  await backend?.close()
})

const connected = async (query = '') => {
  const client = new VoiceTestClient(`${url}${query}`)
  const ready = await client.next('ready')
  return { client, ready }
}

describe('/voice/stream', () => {
  it('answers a typed question: streamed chunks from the model, each sentence spoken as WAV, the whole answer too', async () => {
    const { client, ready } = await connected()
    expect(ready.resumed).toBe(false)
    client.send({ type: 'text', content: 'Why is the sky blue?' })
    const done = await client.next('response_complete')
    const chunks = client.of('response_chunk')
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.at(-1)!.accumulated.trim()).toBe(done.text)
    expect(chunks.map((c) => c.text).join('')).toBe(chunks.at(-1)!.accumulated)
    const audio = client.of('audio_chunk')
    expect(audio.length).toBeGreaterThan(0)
    expect(audio.map((a) => a.index)).toEqual(audio.map((_, i) => i))
    for (const a of [...audio.map((x) => x.url), done.audio_url!]) {
      const res = await fetch(`${server.url}${a}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('audio/wav')
      const wav = readWavMono(new Uint8Array(await res.arrayBuffer()))
      expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(0.3)
    }
    console.log(`typed: "${done.text}" in ${chunks.length} chunks, ${audio.length} sentences spoken`)
    client.close()
  }, 120_000)

  it('answers a spoken question: partial and final transcripts, then the answer', async () => {
    const { client } = await connected()
    await client.speak(question)
    const final = await client.next('final_transcript')
    const wer = corpusWordErrorRate([{ reference: QUESTION, hypothesis: final.text }])
    console.log(`spoken: "${final.text}" (WER ${(wer * 100).toFixed(0)} %)`)
    expect(wer).toBeLessThanOrEqual(0.34)
    expect(client.of('partial_transcript').length).toBeGreaterThan(0)
    expect(vads).toEqual({ made: 1, closed: 1 })
    const done = await client.next('response_complete')
    expect(done.text.length).toBeGreaterThan(0)
    expect(chat.calls.at(-1)!.at(-1)).toEqual({ role: 'user', content: final.text })
    client.close()
  }, 120_000)

  it('stops an answer at cancel, and at a new recording (barge-in): nothing of it comes after response_cancelled', async () => {
    const { client } = await connected()
    for (const stop of ['cancel', 'audio_start'] as const) {
      client.send({ type: 'text', content: 'Tell me a long story about a dragon and a knight.' })
      const first = await client.next('response_chunk')
      client.send({ type: stop })
      const cancelled = await client.next('response_cancelled')
      expect(cancelled.response_id).toBe(first.response_id)
      await new Promise((r) => setTimeout(r, 1500))
      const after = client.messages.filter(
        (m) =>
          'response_id' in m &&
          m.response_id === first.response_id &&
          m.at > client.of('response_cancelled').at(-1)!.at,
      )
      expect(after).toEqual([])
      expect(client.of('response_complete').filter((m) => m.response_id === first.response_id)).toEqual([])
      if (stop === 'audio_start') client.send({ type: 'audio_end' })
    }
    // The session goes on.
    client.send({ type: 'text', content: 'Say hello.' })
    await client.next('response_complete')
    client.close()
  }, 120_000)

  it('resumes the conversation after a reconnect in mid-answer, with what was said before', async () => {
    const { client, ready } = await connected()
    client.send({ type: 'text', content: 'My name is Ada.' })
    await client.next('response_complete')
    client.send({ type: 'text', content: 'Tell me a long story about a dragon.' })
    await client.next('response_chunk', (m) => m.response_id === 2)
    client.ws.terminate()
    const again = await connected(`?session_id=${ready.session_id}`)
    expect(again.ready).toMatchObject({ session_id: ready.session_id, resumed: true })
    await again.client.speak(question)
    await again.client.next('response_complete')
    const seen = chat.calls.at(-1)!.map((m) => m.content)
    expect(seen).toContain('My name is Ada.')
    expect(seen).toContain('Tell me a long story about a dragon.')
    again.client.close()
    // An unknown session id starts a new conversation.
    const fresh = await connected('?session_id=00000000-0000-4000-8000-000000000000')
    expect(fresh.ready.resumed).toBe(false)
    fresh.client.close()
  }, 120_000)

  it('answers bad input with typed errors and keeps the session', async () => {
    const { client } = await connected()
    client.send({ type: 'dance' })
    expect((await client.next('error')).code).toBe('invalid_message')
    client.ws.send('not json')
    expect((await client.next('error', (e) => e.message.includes('JSON'))).code).toBe('invalid_message')
    client.ws.send(new Int16Array(320))
    expect((await client.next('error', (e) => e.message.includes('audio_start'))).code).toBe(
      'invalid_message',
    )
    client.send({ type: 'audio_start', format: { sample_rate: 3 } })
    expect((await client.next('error', (e) => e.code === 'unsupported_sample_rate')).code).toBe(
      'unsupported_sample_rate',
    )
    client.send({ type: 'audio_start' })
    client.ws.send(new Uint8Array(3))
    expect((await client.next('error', (e) => e.code === 'invalid_frame')).message).toContain('3 bytes')
    client.send({ type: 'audio_end' })
    expect((await client.next('error', (e) => e.code === 'invalid_audio')).message).toContain('No speech')
    client.send({ type: 'text', content: 'Say yes.' })
    await client.next('response_complete')
    client.close()
  }, 60_000)
})

describe('/voice/stream conversation', () => {
  it('sends the history with each question, and past maxHistoryMessages drops its older half at once', async () => {
    const short = createVoiceServer({
      backend,
      chat,
      tts: new EspeakSynthesizer(),
      port: 0,
      maxTokens: 8,
      maxHistoryMessages: 4,
    })
    await short.listen()
    const client = new VoiceTestClient(`${short.url.replace('http', 'ws')}/voice/stream`)
    await client.next('ready')
    const sizes: number[] = []
    for (const q of ['One?', 'Two?', 'Three?', 'Four?']) {
      client.send({ type: 'text', content: q })
      await client.next('response_complete')
      sizes.push(chat.calls.at(-1)!.length)
    }
    // system + history + question: 0, 2, 4 earlier messages; then 6 > 4 keeps the last 2.
    expect(sizes).toEqual([2, 4, 6, 4])
    expect(chat.calls.at(-1)![1]).toEqual({ role: 'user', content: 'Three?' })
    client.close()
    await short.close()
  }, 60_000)
})

describe('/voice/stream when a stage fails', () => {
  it('reports an unreachable chat model as llm_unavailable and a broken TTS as tts_failed; the session survives both', async () => {
    const broken = createVoiceServer({
      backend,
      chat: new OpenAiChatModel({ baseUrl: 'http://127.0.0.1:9/v1', model: 'none', timeoutMs: 2000 }),
      tts: new EspeakSynthesizer({ command: 'espeak-ng-not-installed' }),
      port: 0,
    })
    await broken.listen()
    const client = new VoiceTestClient(`${broken.url.replace('http', 'ws')}/voice/stream`)
    await client.next('ready')
    client.send({ type: 'text', content: 'Hello?' })
    expect((await client.next('error')).code).toBe('llm_unavailable')
    client.send({ type: 'text', content: 'Hello again?' })
    expect((await client.next('error', (e) => e.response_id === 2)).code).toBe('llm_unavailable')
    client.close()
    await broken.close()

    const mute = createVoiceServer({
      backend,
      chat,
      tts: new EspeakSynthesizer({ command: 'espeak-ng-not-installed' }),
      port: 0,
      maxTokens: 30,
    })
    await mute.listen()
    const c2 = new VoiceTestClient(`${mute.url.replace('http', 'ws')}/voice/stream`)
    await c2.next('ready')
    c2.send({ type: 'text', content: 'Say hello.' })
    const error = await c2.next('error')
    expect(error.code).toBe('tts_failed')
    expect(error.message).toContain('not installed')
    const done = await c2.next('response_complete')
    expect(done.audio_url).toBeNull()
    expect(done.text.length).toBeGreaterThan(0)
    c2.close()
    await mute.close()
    await mute.close()
  }, 120_000)
})
