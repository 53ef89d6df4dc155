import type { IncomingMessage } from 'node:http'
import { encodePcm16le, writeWav } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { webrtcAggressiveness } from '../engine.js'
import { AudioInput, decodeBase64 } from './audio-input.js'
import { DeepgramProtocol } from './deepgram.js'
import { MIN_ENDPOINTING_MS, parseDeepgramQuery } from './deepgram-query.js'
import { OpenAIRealtimeProtocol } from './openai-realtime.js'
import {
  applyBetaSession,
  applyGaSession,
  DEFAULT_REALTIME_SETTINGS,
  MIN_SILENCE_MS,
  sessionConfigOf,
} from './openai-session.js'
import { credentialsOf, protocolFor, routeOf, selectProtocol } from './route.js'

// The adapters' pure logic; the protocols end to end are tested with the official clients
// (openai-realtime.test.ts, deepgram.test.ts).
const q = (s: string) => new URLSearchParams(s)
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage
const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x))

describe('routes and keys', () => {
  it('routes each path to its protocol; anything else is not found', () => {
    expect(routeOf('/v1/realtime')).toEqual({ protocol: 'openai-realtime' })
    expect(routeOf('/v1/listen/')).toEqual({ protocol: 'deepgram' })
    expect(routeOf('/ws/transcribe/hybrid')).toEqual({ protocol: 'native', strategy: 'hybrid' })
    expect(() => routeOf('/v1/other')).toThrow(/No WebSocket endpoint/)
  })

  it('finds the key wherever a protocol puts it, and echoes no key as a subprotocol', () => {
    const url = new URL('http://h/v1/listen?token=q')
    expect(credentialsOf(req({ authorization: 'Token a', 'api-key': 'b' }), url)).toEqual(['a', 'b', 'q'])
    expect(
      credentialsOf(
        req({ 'sec-websocket-protocol': 'realtime, openai-insecure-api-key.k1' }),
        new URL('http://h/'),
      ),
    ).toEqual(['k1'])
    expect(credentialsOf(req({ 'sec-websocket-protocol': 'token, k2' }), new URL('http://h/'))).toEqual([
      'k2',
    ])
    expect(selectProtocol(new Set(['realtime', 'openai-insecure-api-key.k1']))).toBe('realtime')
    expect(selectProtocol(new Set(['bearer', 'jwt']))).toBe('bearer')
    expect(selectProtocol(new Set(['other']))).toBe(false)
  })
})

describe('what the served engine can do', () => {
  it('refuses another language or a translation on an English-only model, before the handshake', () => {
    const englishOnly = { backend: { multilingual: false } }
    const multilingual = { backend: { multilingual: true } }
    const at = (path: string) => new URL(`http://h${path}`)
    const native = (query: string, engine: object) =>
      protocolFor(routeOf('/ws/transcribe/prompt'), at(`/ws/transcribe/prompt?${query}`), req({}), engine)
    expect(() => native('language=es', englishOnly)).toThrow(/English-only.*"es"/)
    expect(() => native('task=translate', englishOnly)).toThrow(/English-only.*translate/)
    expect(native('language=es', multilingual).session().config.language).toBe('es')
    for (const query of ['language=en', 'language=auto', ''])
      expect(() => native(query, englishOnly)).not.toThrow()
    const deepgram = (query: string) =>
      protocolFor(routeOf('/v1/listen'), at(`/v1/listen?${query}`), req({}), englishOnly)
    expect(() => deepgram('language=es-ES')).toThrow(/English-only/)
    expect(() => deepgram('language=en-US')).not.toThrow()
    // The served VAD's hangover is Deepgram's endpointing floor.
    const dg = protocolFor(routeOf('/v1/listen'), at('/v1/listen'), req({}), { vadHangoverMs: 200 })
    expect(dg.session().vadSegmenter).toEqual({ hangoverMs: 200 })
  })
})

describe('Deepgram query', () => {
  it('maps what it serves and ignores the rest', () => {
    const o = parseDeepgramQuery(
      q('model=nova-3&encoding=mulaw&sample_rate=8000&endpointing=25&language=en-US&smart_format=true&tag=x'),
    )
    expect(o).toMatchObject({
      encoding: 'mulaw',
      sampleRate: 8000,
      endpointingMs: MIN_ENDPOINTING_MS,
      language: 'en',
      model: 'nova-3',
    })
    expect(parseDeepgramQuery(q('endpointing=false&language=multi'))).toMatchObject({
      endpointingMs: false,
      language: undefined,
      sniffWav: true,
    })
    expect(parseDeepgramQuery(q('endpointing=800')).endpointingMs).toBe(800)
    // The floor is the served VAD's hangover when the server gives it.
    expect(parseDeepgramQuery(q(''), 200).endpointingMs).toBe(200)
    expect(parseDeepgramQuery(q('endpointing=25'), 200).endpointingMs).toBe(200)
  })

  it('refuses what it cannot serve, naming what is supported', () => {
    expect(() => parseDeepgramQuery(q('encoding=opus'))).toThrow(/linear16, mulaw, alaw/)
    expect(() => parseDeepgramQuery(q('channels=2'))).toThrow(/mono/)
    expect(() => parseDeepgramQuery(q('interim_results=yes'))).toThrow(/true or false/)
    expect(() => parseDeepgramQuery(q('sample_rate=12'))).toThrow()
  })

  it('ends the utterance on Finalize, answering an empty final from the flush when the session had nothing open', () => {
    const p = new DeepgramProtocol(parseDeepgramQuery(q('encoding=linear16')))
    p.open({ sessionId: 'id', backend: 'b', model: 'tiny.en' })
    // Whether an utterance is open is the session's to say, after the audio before the
    // Finalize (events about that audio may not have reached the protocol yet).
    const [command] = p.receive(json({ type: 'Finalize' }), false)
    expect(command).toMatchObject({ type: 'end_utterance' })
    const replies = (command as { nothingOpen: () => { message: object }[] }).nothingOpen()
    expect(replies).toMatchObject([{ message: { type: 'Results', is_final: true, from_finalize: true } }])
    expect(() => p.receive(new TextEncoder().encode('nope'), false)).toThrow(/DATA-0000/)
  })
})

describe('OpenAI session settings', () => {
  it('reads both shapes into one, and maps turn detection onto the VAD', () => {
    const ga = applyGaSession(DEFAULT_REALTIME_SETTINGS, {
      type: 'transcription',
      audio: {
        input: { format: { type: 'audio/pcma' }, turn_detection: { type: 'semantic_vad', eagerness: 'low' } },
      },
    })
    expect(ga.format).toBe('g711_alaw')
    expect(sessionConfigOf(ga)).toMatchObject({
      config: { sample_rate: 8000, vad: 'server' },
      vadSegmenter: { hangoverMs: 1000 },
    })
    const beta = applyBetaSession(DEFAULT_REALTIME_SETTINGS, {
      input_audio_format: 'pcm16',
      turn_detection: { type: 'server_vad', threshold: 0.3, silence_duration_ms: 40, prefix_padding_ms: 100 },
    })
    expect(sessionConfigOf(beta)).toMatchObject({
      config: { sample_rate: 24_000 },
      vadSegmenter: { hangoverMs: MIN_SILENCE_MS, prePaddingMs: 100 },
      vadThreshold: 0.3,
    })
    expect(sessionConfigOf(applyBetaSession(beta, { turn_detection: null })).config.vad).toBe('client')
    expect(webrtcAggressiveness(0.5)).toBe(3)
    expect(webrtcAggressiveness(0.3)).toBe(1)
  })

  it('refuses conversation sessions and bad values with the parameter named', () => {
    expect(() => applyGaSession(DEFAULT_REALTIME_SETTINGS, { type: 'realtime' })).toThrow(/transcription/)
    expect(() => applyBetaSession(DEFAULT_REALTIME_SETTINGS, { input_audio_format: 'mp3' })).toThrow(/pcm16/)
    expect(() =>
      applyGaSession(DEFAULT_REALTIME_SETTINGS, {
        audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } },
      }),
    ).toThrow(/24000/)
  })

  it('turns a session into items in OpenAI order, and a commit of nothing into an error', () => {
    const p = new OpenAIRealtimeProtocol({ beta: false, query: q('intent=transcription') })
    expect(p.open({ sessionId: 'abc', backend: 'b', model: 'm' })[0]!.message).toMatchObject({
      type: 'session.created',
    })
    expect(() => p.receive(json({ type: 'input_audio_buffer.commit' }), false)).toThrow(/empty/)
    const types = [
      ...p.event({ type: 'speech_start', t: 1 }),
      ...p.event({ type: 'speech_end', t: 2 }),
      ...p.event({
        type: 'final',
        utteranceId: 0,
        reason: 'speech_end',
        text: 'Hi.',
        segments: [],
        language: 'en',
        audioStart: 1,
        audioEnd: 2,
        processingTimeMs: 1,
      }),
    ].map((o) => (o.message as { type: string }).type)
    expect(types).toEqual([
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.input_audio_transcription.delta',
      'conversation.item.input_audio_transcription.completed',
      'conversation.item.done',
    ])
  })
})

describe('audio input', () => {
  it('joins a PCM16 sample split between messages', () => {
    const bytes = encodePcm16le(new Float32Array([0.5, -0.25, 0.125]))
    const input = new AudioInput({ encoding: 'linear16', sampleRate: 16_000 })
    const a = input.decode(bytes.subarray(0, 3))
    const b = input.decode(bytes.subarray(3))
    expect([...a, ...b]).toEqual([0.5, -0.25, 0.125])
  })

  it('reads a WAV header streamed first for its rate, and skips it', () => {
    const wav = writeWav(new Float32Array(800).fill(0.25), 8000)
    const input = new AudioInput({ encoding: 'linear16', sampleRate: 16_000, sniffWav: true })
    const samples = input.decode(wav.subarray(0, 100))
    expect(input.sampleRate).toBe(8000)
    expect(samples.length).toBe((100 - 44) / 2)
    expect(samples[0]).toBeCloseTo(0.25, 3)
    // As ws hands it over: a Buffer inside a larger one (whose slice() shares its memory).
    const backing = Buffer.alloc(4096)
    Buffer.from(wav).copy(backing, 1000)
    const pooled = new AudioInput({ encoding: 'linear16', sampleRate: 16_000, sniffWav: true })
    expect(pooled.decode(backing.subarray(1000, 1100)).length).toBe((100 - 44) / 2)
    expect(pooled.sampleRate).toBe(8000)
    expect(backing.subarray(1000, 1000 + wav.length)).toEqual(Buffer.from(wav))
  })

  it('refuses what is not base64', () => {
    expect(() => decodeBase64('ab$c', 'audio')).toThrow(/base64/)
    expect(decodeBase64('AAE=', 'audio')).toEqual(Buffer.from([0, 1]))
  })
})
