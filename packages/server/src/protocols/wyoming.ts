import { type SessionEndMessage, type SessionEvent, WHISPER_LANGUAGES, WsError } from '@ws/core'
import { DROP_IN_STRATEGY } from './deepgram.js'
import type { Command, OpenInfo, Outgoing, SessionSetup, WireProtocol } from './protocol.js'
import { sameFormat, type WyomingAudioFormat, WyomingPcm, wyomingFormat } from './wyoming-audio.js'
import { decodeWyomingEvent, type WyomingEvent } from './wyoming-framing.js'

/** What `describe` reports: the engine really served. */
export interface WyomingServed {
  /** The served model's name (`tiny.en`, `base`, a path). */
  model: string
  /** false for an English-only model: it lists and takes `en` alone. */
  multilingual: boolean
  /** This server's version. */
  version: string
}

/** The program's name in `info`. */
export const WYOMING_PROGRAM = 'whisper-stream'

const event = (type: string, data: Record<string, unknown> = {}): Outgoing => ({ message: { type, data } })

/** A language as Whisper names it: `en-US` → `en`. */
export function whisperLanguage(language: string): string {
  return language.trim().toLowerCase().split(/[-_]/)[0]!
}

/**
 * Wyoming speech-to-text (Home Assistant's Assist) over the streaming session: one
 * transcription per connection, as Wyoming's own servers do. `describe` → `info`;
 * `transcribe` (optional `name`, `language`), `audio-start`, `audio-chunk`s, `audio-stop` →
 * `transcript-start`, a `transcript-chunk` for each final as the session's VAD closes an
 * utterance (chunks join into the transcript), then `transcript` and `transcript-stop` once
 * `audio-stop` has flushed all audio. Input it cannot take gets `error` (`text`, `code`) and
 * the connection is closed. Frames are cut by the socket; each message here is one event.
 */
export class WyomingProtocol implements WireProtocol {
  readonly name = 'wyoming' as const
  /** Wyoming has no close codes; the socket only ends. */
  readonly closeCodes = { invalid: 1008, idle: 1000 }
  /** An `error` ends the request: the client cannot go on with it. */
  readonly maxInvalidMessages = 1
  readonly #served: WyomingServed
  #language: string | undefined
  #pcm: WyomingPcm | undefined
  #audioStarted = false
  #chunks: string[] = []
  #started = false

  constructor(served: WyomingServed) {
    this.#served = served
  }

  session(): SessionSetup {
    return {
      strategy: DROP_IN_STRATEGY,
      config: {
        sample_rate: this.#pcm?.format.rate ?? 16_000,
        vad: 'server',
        partial_interval_ms: 0,
        // The chunks sent are final: a revision could not take them back.
        revisions: false,
        ...(this.#language ? { language: this.#language } : {}),
      },
    }
  }

  open(_info: OpenInfo): Outgoing[] {
    return []
  }

  /** `info`'s data: one `asr` program with the served model and its languages. */
  info(): Record<string, unknown> {
    const s = this.#served
    const languages = s.multilingual ? [...WHISPER_LANGUAGES] : ['en']
    return {
      asr: [
        {
          name: WYOMING_PROGRAM,
          attribution: { name: 'whisper-stream', url: '' },
          installed: true,
          description: 'Real-time Whisper speech-to-text',
          version: s.version,
          models: [
            {
              name: s.model,
              attribution: { name: 'OpenAI', url: 'https://github.com/openai/whisper' },
              installed: true,
              description: `Whisper ${s.model}`,
              version: null,
              languages,
            },
          ],
          supports_transcript_streaming: true,
          requires_external_vad: true,
        },
      ],
      tts: [],
      handle: [],
      intent: [],
      wake: [],
      mic: [],
      snd: [],
    }
  }

  receive(data: Uint8Array, _isBinary: boolean): Command[] {
    const e = decodeWyomingEvent(data)
    switch (e.type) {
      case 'describe':
        return [{ type: 'reply', messages: [event('info', this.info())] }]
      case 'ping':
        return [
          {
            type: 'reply',
            messages: [event('pong', typeof e.data.text === 'string' ? { text: e.data.text } : {})],
          },
        ]
      case 'transcribe':
        this.#transcribe(e)
        return [{ type: 'config' }]
      case 'audio-start':
        return this.#start(wyomingFormat(e.data, 'audio-start'))
      case 'audio-chunk':
        return this.#chunk(e)
      case 'audio-stop':
        return [{ type: 'end' }]
      default:
        // Events of other Wyoming services: nothing to do, as Wyoming's servers do.
        return []
    }
  }

  #transcribe(e: WyomingEvent): void {
    if (this.#audioStarted) throw new WsError('invalid_message', 'transcribe must come before the audio')
    const { name, language } = e.data
    if (name !== undefined && name !== null && name !== this.#served.model && name !== WYOMING_PROGRAM)
      throw new WsError(
        'model_not_found',
        `This server serves model "${this.#served.model}", not ${JSON.stringify(name)}`,
      )
    if (language === undefined || language === null || language === '') return
    if (typeof language !== 'string') throw new WsError('invalid_config', 'language must be a string')
    const code = whisperLanguage(language)
    if (!this.#served.multilingual && code !== 'en')
      throw new WsError(
        'invalid_config',
        `The served model is English-only; it cannot transcribe language "${language}" (serve a multilingual one, e.g. base)`,
      )
    if (!(WHISPER_LANGUAGES as readonly string[]).includes(code))
      throw new WsError('invalid_config', `Whisper does not know language "${language}"`)
    this.#language = code
  }

  #start(format: WyomingAudioFormat): Command[] {
    if (this.#audioStarted) throw new WsError('invalid_message', 'audio-start came twice')
    this.#audioStarted = true
    this.#pcm = new WyomingPcm(format)
    return [{ type: 'config' }]
  }

  #chunk(e: WyomingEvent): Command[] {
    const format = wyomingFormat(e.data, 'audio-chunk')
    // A chunk with no audio-start before it sets the format itself.
    if (!this.#pcm) {
      this.#start(format)
      const samples = this.#pcm!.decode(e.payload ?? new Uint8Array())
      return [{ type: 'config' }, ...(samples.length > 0 ? [{ type: 'audio' as const, samples }] : [])]
    }
    if (!sameFormat(format, this.#pcm.format))
      throw new WsError(
        'unsupported_encoding',
        `audio-chunk format ${describe(format)} differs from the stream's ${describe(this.#pcm.format)}`,
      )
    const samples = this.#pcm.decode(e.payload ?? new Uint8Array())
    return samples.length > 0 ? [{ type: 'audio', samples }] : []
  }

  event(e: SessionEvent): Outgoing[] {
    if (e.type !== 'final') return []
    const text = e.text.trim()
    if (!text) return []
    const out = this.#startOnce()
    out.push(event('transcript-chunk', { text: this.#chunks.length > 0 ? ` ${text}` : text }))
    this.#chunks.push(text)
    return out
  }

  #startOnce(): Outgoing[] {
    if (this.#started) return []
    this.#started = true
    return [event('transcript-start', this.#language ? { language: this.#language } : {})]
  }

  error(error: WsError): Outgoing {
    return {
      message: { type: 'error', data: { text: error.message, code: error.code } },
      errorCode: error.code,
    }
  }

  end(info: { reason: SessionEndMessage['reason'] }): Outgoing[] {
    // Refused for capacity: nothing was transcribed, the error said why.
    if (info.reason === 'busy') return []
    const text = this.#chunks.join(' ')
    return [
      ...this.#startOnce(),
      event('transcript', { text, ...(this.#language ? { language: this.#language } : {}) }),
      event('transcript-stop'),
    ]
  }
}

const describe = (f: WyomingAudioFormat) => `${f.rate} Hz, ${f.width} bytes, ${f.channels} channels`
