import { type FinalEvent, isWsError, WHISPER_LANGUAGES } from '@ws/core'
import { describe, expect, it } from 'vitest'
import type { Command } from './protocol.js'
import { WyomingProtocol, whisperLanguage } from './wyoming.js'
import { WyomingPcm, wyomingFormat } from './wyoming-audio.js'
import { encodeWyomingEvent } from './wyoming-framing.js'

const englishOnly = () => new WyomingProtocol({ model: 'tiny.en', multilingual: false, version: '1.2.3' })
const multilingual = () => new WyomingProtocol({ model: 'base', multilingual: true, version: '1.2.3' })

const send = (p: WyomingProtocol, type: string, data: Record<string, unknown> = {}, payload?: Uint8Array) =>
  p.receive(encodeWyomingEvent({ type, data, ...(payload ? { payload } : {}) }), true)

function thrown(f: () => unknown) {
  try {
    f()
  } catch (err) {
    return err
  }
  throw new Error('did not throw')
}
const codeOf = (f: () => unknown) => {
  const err = thrown(f)
  return isWsError(err) ? err.code : err
}

const final = (text: string, utteranceId = 1) => ({ type: 'final', text, utteranceId }) as FinalEvent
const messages = (outgoing: { message: object }[]) => outgoing.map((o) => o.message)
const pcm16 = (...samples: number[]) => {
  const b = Buffer.alloc(samples.length * 2)
  for (const [i, s] of samples.entries()) b.writeInt16LE(s, i * 2)
  return new Uint8Array(b)
}

describe('WyomingProtocol', () => {
  it('describe: info with one asr program, the served model and its languages', () => {
    const [reply] = send(englishOnly(), 'describe') as [Extract<Command, { type: 'reply' }>]
    const info = reply.messages[0]!.message as { type: string; data: { asr: Record<string, unknown>[] } }
    expect(info.type).toBe('info')
    expect(info.data.asr).toHaveLength(1)
    expect(info.data.asr[0]).toMatchObject({
      name: 'whisper-stream',
      installed: true,
      version: '1.2.3',
      supports_transcript_streaming: true,
      models: [{ name: 'tiny.en', installed: true, languages: ['en'] }],
    })
    const many = multilingual().info() as { asr: { models: { languages: string[] }[] }[] }
    expect(many.asr[0]!.models[0]!.languages).toEqual(WHISPER_LANGUAGES)
  })

  it('transcribe: the language as Whisper names it; a model or language not served is refused', () => {
    const p = multilingual()
    expect(send(p, 'transcribe', { language: 'de-DE' })).toEqual([{ type: 'config' }])
    expect(p.session().config.language).toBe('de')
    expect(whisperLanguage('en_US')).toBe('en')
    const en = englishOnly()
    send(en, 'transcribe', { name: 'tiny.en', language: 'en-US' })
    expect(en.session().config.language).toBe('en')
    expect(codeOf(() => send(englishOnly(), 'transcribe', { language: 'fr' }))).toBe('invalid_config')
    expect(codeOf(() => send(multilingual(), 'transcribe', { language: 'xx' }))).toBe('invalid_config')
    expect(codeOf(() => send(englishOnly(), 'transcribe', { name: 'large-v3' }))).toBe('model_not_found')
  })

  it('audio-start sets the session rate; the session runs the server VAD without partials or revisions', () => {
    const p = englishOnly()
    expect(send(p, 'audio-start', { rate: 22050, width: 2, channels: 2 })).toEqual([{ type: 'config' }])
    expect(p.session()).toMatchObject({
      strategy: 'prompt',
      config: { sample_rate: 22050, vad: 'server', partial_interval_ms: 0, revisions: false },
    })
    expect(codeOf(() => send(p, 'audio-start', { rate: 16000, width: 2, channels: 1 }))).toBe(
      'invalid_message',
    )
  })

  it.each([
    [{ rate: 16000, width: 5, channels: 1 }, 'unsupported_encoding'],
    [{ rate: 16000, width: 2, channels: 0 }, 'unsupported_encoding'],
    [{ rate: 16000, width: '2', channels: 1 }, 'unsupported_encoding'],
    [{ rate: 100, width: 2, channels: 1 }, 'unsupported_sample_rate'],
    [{ width: 2, channels: 1 }, 'unsupported_sample_rate'],
  ])('audio-start %j is refused with %s', (format, code) => {
    expect(codeOf(() => send(englishOnly(), 'audio-start', format))).toBe(code)
  })

  it('audio-chunk: samples in the stream format; a chunk of another format is refused', () => {
    const p = englishOnly()
    send(p, 'audio-start', { rate: 16000, width: 2, channels: 1 })
    const [audio] = send(p, 'audio-chunk', { rate: 16000, width: 2, channels: 1 }, pcm16(16384, -32768))
    expect(audio).toEqual({ type: 'audio', samples: Float32Array.of(0.5, -1) })
    expect(send(p, 'audio-chunk', { rate: 16000, width: 2, channels: 1 })).toEqual([])
    expect(codeOf(() => send(p, 'audio-chunk', { rate: 8000, width: 2, channels: 1 }, pcm16(1)))).toBe(
      'unsupported_encoding',
    )
  })

  it('an audio-chunk with no audio-start sets the format itself', () => {
    const p = englishOnly()
    const commands = send(p, 'audio-chunk', { rate: 8000, width: 2, channels: 1 }, pcm16(0, 0))
    expect(commands.map((c) => c.type)).toEqual(['config', 'audio'])
    expect(p.session().config.sample_rate).toBe(8000)
  })

  it('audio-stop ends the session; ping gets pong; events of other services are ignored', () => {
    expect(send(englishOnly(), 'audio-stop')).toEqual([{ type: 'end' }])
    expect(send(englishOnly(), 'ping', { text: 'x' })).toEqual([
      { type: 'reply', messages: [{ message: { type: 'pong', data: { text: 'x' } } }] },
    ])
    expect(send(englishOnly(), 'synthesize', { text: 'hi' })).toEqual([])
  })

  it('finals stream as transcript-chunks that join into the transcript, then transcript-stop', () => {
    const p = multilingual()
    send(p, 'transcribe', { language: 'en' })
    expect(messages(p.event({ type: 'speech_start', t: 0 }))).toEqual([])
    expect(messages(p.event(final(' Hello there. ')))).toEqual([
      { type: 'transcript-start', data: { language: 'en' } },
      { type: 'transcript-chunk', data: { text: 'Hello there.' } },
    ])
    expect(messages(p.event(final('', 2)))).toEqual([])
    expect(messages(p.event(final('How are you?', 3)))).toEqual([
      { type: 'transcript-chunk', data: { text: ' How are you?' } },
    ])
    expect(messages(p.end({ reason: 'end' }))).toEqual([
      { type: 'transcript', data: { text: 'Hello there. How are you?', language: 'en' } },
      { type: 'transcript-stop', data: {} },
    ])
  })

  it('with nothing heard: an empty transcript; refused for capacity: nothing after the error', () => {
    expect(messages(englishOnly().end({ reason: 'end' }))).toEqual([
      { type: 'transcript-start', data: {} },
      { type: 'transcript', data: { text: '' } },
      { type: 'transcript-stop', data: {} },
    ])
    expect(englishOnly().end({ reason: 'busy' })).toEqual([])
  })

  it('errors are Wyoming error events with text and code', () => {
    const err = thrown(() => send(englishOnly(), 'audio-start', { rate: 1 }))
    expect(isWsError(err) && englishOnly().error(err)).toEqual({
      message: { type: 'error', data: { text: (err as Error).message, code: 'unsupported_sample_rate' } },
      errorCode: 'unsupported_sample_rate',
    })
  })
})

describe('WyomingPcm', () => {
  it('reads 8-bit unsigned, 16-, 24- and 32-bit signed samples', () => {
    expect(new WyomingPcm({ rate: 8000, width: 1, channels: 1 }).decode(Uint8Array.of(128, 192, 0))).toEqual(
      Float32Array.of(0, 0.5, -1),
    )
    expect(new WyomingPcm({ rate: 8000, width: 3, channels: 1 }).decode(Uint8Array.of(0, 0, 0x40))).toEqual(
      Float32Array.of(0.5),
    )
    expect(
      new WyomingPcm({ rate: 8000, width: 4, channels: 1 }).decode(Uint8Array.of(0, 0, 0, 0xc0)),
    ).toEqual(Float32Array.of(-0.5))
  })

  it('averages channels, and keeps a frame cut between chunks for the next', () => {
    const stereo = new WyomingPcm({ rate: 44100, width: 2, channels: 2 })
    const bytes = pcm16(16384, 0, -16384, -16384)
    expect(stereo.decode(bytes.subarray(0, 3))).toEqual(new Float32Array(0))
    expect(stereo.decode(bytes.subarray(3, 5))).toEqual(Float32Array.of(0.25))
    expect(stereo.decode(bytes.subarray(5))).toEqual(Float32Array.of(-0.5))
  })

  it('wyomingFormat takes Wyoming widths and any rate the session resamples', () => {
    expect(wyomingFormat({ rate: 48000, width: 4, channels: 6 }, 'audio-start')).toEqual({
      rate: 48000,
      width: 4,
      channels: 6,
    })
  })
})
