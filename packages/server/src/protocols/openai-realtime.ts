import { randomBytes } from 'node:crypto'
import { CLOSE_CODES, type FinalEvent, type SessionErrorEvent, type SessionEvent, WsError } from '@ws/core'
import { AudioInput, decodeBase64 } from './audio-input.js'
import { DROP_IN_STRATEGY } from './deepgram.js'
import {
  applyBetaSession,
  applyGaSession,
  betaSession,
  DEFAULT_REALTIME_SETTINGS,
  gaSession,
  inputOf,
  type RealtimeSettings,
  sessionConfigOf,
} from './openai-session.js'
import type { Command, OpenInfo, Outgoing, SessionSetup, WireProtocol } from './protocol.js'

/** Client events of conversation sessions, which a transcription server answers with an `error`. */
const CONVERSATION_EVENTS = /^(response\.|conversation\.|output_audio_buffer\.)/

const round = (x: number) => Math.round(x * 1000) / 1000

/**
 * OpenAI's Realtime API, transcription sessions (`/v1/realtime`), in both of its shapes (beta:
 * `transcription_session.*`; GA: `session.*` with `type: "transcription"`), over the streaming
 * session. Each utterance is an item: `speech_started` → `speech_stopped` → `committed` → item
 * created (GA: added) → the transcript as one `delta` (text never taken back, as OpenAI sends
 * for whisper-1) → `completed` with `usage` → GA `item.done`.
 */
export class OpenAIRealtimeProtocol implements WireProtocol {
  readonly name = 'openai-realtime' as const
  readonly closeCodes = { invalid: CLOSE_CODES.policyViolation, idle: CLOSE_CODES.normal }
  readonly beta: boolean
  #settings: RealtimeSettings
  #input: AudioInput
  #sessionId = ''
  #started = false
  #events = 0
  #items = 0
  #previousItem: string | null = null
  /** The item of the utterance the VAD hears now (after `speech_started`). */
  #current: string | undefined
  /** Committed items waiting for their transcripts, in order. */
  #awaiting: string[] = []
  /** Audio bytes since the last commit or turn. */
  #uncommitted = 0
  #clientEventId: string | null = null

  constructor(options: { beta: boolean; query: URLSearchParams }) {
    this.beta = options.beta
    const language = options.query.get('language')
    this.#settings = {
      ...DEFAULT_REALTIME_SETTINGS,
      transcription: { ...DEFAULT_REALTIME_SETTINGS.transcription, ...(language ? { language } : {}) },
    }
    // Checked now: a bad ?language= is a 400 before the handshake.
    this.#settings = applyBetaSession(this.#settings, {})
    this.#input = new AudioInput(inputOf(this.#settings))
  }

  session(): SessionSetup {
    return { strategy: DROP_IN_STRATEGY, ...sessionConfigOf(this.#settings) }
  }

  open(info: OpenInfo): Outgoing[] {
    this.#sessionId = `sess_${info.sessionId.replaceAll('-', '').slice(0, 20)}`
    return [this.#sessionEvent(this.beta ? 'transcription_session.created' : 'session.created')]
  }

  receive(data: Uint8Array, isBinary: boolean): Command[] {
    this.#clientEventId = null
    if (isBinary)
      throw new WsError('invalid_message', 'Send audio as input_audio_buffer.append events (JSON)')
    let event: Record<string, unknown>
    try {
      event = JSON.parse(Buffer.from(data).toString('utf8'))
    } catch {
      throw new WsError('invalid_message', 'Events are JSON objects')
    }
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string')
      throw new WsError('invalid_message', 'An event is a JSON object with a string "type"')
    this.#clientEventId = typeof event.event_id === 'string' ? event.event_id : null
    const type = event.type
    switch (type) {
      case 'input_audio_buffer.append': {
        const bytes = decodeBase64(event.audio, 'audio')
        this.#started = true
        this.#uncommitted += bytes.length
        const samples = this.#input.decode(bytes)
        return samples.length > 0 ? [{ type: 'audio', samples }] : []
      }
      case 'input_audio_buffer.commit':
        return this.#commit()
      case 'input_audio_buffer.clear':
        this.#uncommitted = 0
        this.#current = undefined
        return [{ type: 'cancel' }, this.#reply({ type: 'input_audio_buffer.cleared' })]
      case 'transcription_session.update':
      case 'session.update':
        return this.#update(type, event.session)
    }
    if (CONVERSATION_EVENTS.test(type)) {
      const error = new WsError('invalid_message', `${type} is not served: this server only transcribes`)
      return [{ type: 'reply', messages: [this.error(error)] }]
    }
    throw new WsError('invalid_message', `Unknown event type "${type}"`)
  }

  event(event: SessionEvent): Outgoing[] {
    switch (event.type) {
      case 'speech_start': {
        this.#current ??= this.#newItem()
        return [
          this.#out({
            type: 'input_audio_buffer.speech_started',
            audio_start_ms: ms(event.t),
            item_id: this.#current,
          }),
        ]
      }
      case 'speech_end': {
        const item = this.#current ?? this.#newItem()
        this.#current = undefined
        this.#uncommitted = 0
        return [
          this.#out({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: ms(event.t), item_id: item }),
          ...this.#committed(item),
        ]
      }
      case 'final':
        return this.#completed(event)
      case 'error':
        return this.#failed(event)
      default:
        return []
    }
  }

  error(error: WsError, extra: { retry_after_ms?: number } = {}): Outgoing {
    const server = error.code === 'internal_error' || error.code === 'backend_failed'
    const param = typeof error.details?.param === 'string' ? error.details.param : null
    return {
      message: {
        type: 'error',
        event_id: this.#eventId(),
        error: {
          type: server ? 'server_error' : 'invalid_request_error',
          code: error.code,
          message: error.message,
          param,
          event_id: this.#clientEventId,
          ...(extra.retry_after_ms === undefined ? {} : { retry_after_ms: extra.retry_after_ms }),
        },
      },
      errorCode: error.code,
    }
  }

  end(): Outgoing[] {
    return []
  }

  #update(type: string, session: unknown): Command[] {
    const ga =
      type === 'session.update' &&
      typeof session === 'object' &&
      session !== null &&
      ('type' in session || 'audio' in session)
    if (this.#started) {
      throw new WsError('invalid_config', 'The session settings cannot change once audio has been appended')
    }
    this.#settings = ga ? applyGaSession(this.#settings, session) : applyBetaSession(this.#settings, session)
    this.#input = new AudioInput(inputOf(this.#settings))
    const reply =
      this.beta && type === 'transcription_session.update'
        ? 'transcription_session.updated'
        : 'session.updated'
    return [{ type: 'config' }, { type: 'reply', messages: [this.#sessionEvent(reply, ga || !this.beta)] }]
  }

  #commit(): Command[] {
    if (this.#uncommitted === 0) {
      throw new WsError(
        'invalid_audio',
        'input_audio_buffer.commit: the buffer is empty (append audio first)',
      )
    }
    this.#uncommitted = 0
    const manual = this.#settings.turnDetection === null
    const inSpeech = this.#current !== undefined
    const item = this.#current ?? this.#newItem()
    this.#current = undefined
    const messages = this.#committed(item)
    if (!manual && !inSpeech) {
      // The VAD heard no speech in what was committed: an item with an empty transcript.
      this.#awaiting.pop()
      messages.push(...this.#transcript(item, '', 0))
      return [{ type: 'reply', messages }]
    }
    return [{ type: 'end_utterance' }, { type: 'reply', messages }]
  }

  #committed(item: string): Outgoing[] {
    this.#awaiting.push(item)
    const previous = this.#previousItem
    this.#previousItem = item
    const payload = {
      id: item,
      object: 'realtime.item',
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null }],
    }
    return [
      this.#out({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: item }),
      this.#out({
        type: this.beta ? 'conversation.item.created' : 'conversation.item.added',
        previous_item_id: previous,
        item: payload,
      }),
    ]
  }

  #completed(event: FinalEvent): Outgoing[] {
    let item = this.#awaiting.shift()
    const out: Outgoing[] = []
    if (item === undefined) {
      // Cut at the length limit while speech goes on: committed now.
      item = this.#current ?? this.#newItem()
      this.#current = undefined
      out.push(...this.#committed(item))
      this.#awaiting.shift()
    }
    out.push(...this.#transcript(item, event.text, event.audioEnd - event.audioStart))
    return out
  }

  #transcript(item: string, text: string, seconds: number): Outgoing[] {
    const out: Outgoing[] = []
    if (text) {
      out.push(
        this.#out({
          type: 'conversation.item.input_audio_transcription.delta',
          item_id: item,
          content_index: 0,
          delta: text,
        }),
      )
    }
    out.push(
      this.#out({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: item,
        content_index: 0,
        transcript: text,
        usage: { type: 'duration', seconds: round(seconds) },
      }),
    )
    if (!this.beta) {
      out.push(
        this.#out({
          type: 'conversation.item.done',
          previous_item_id: null,
          item: {
            id: item,
            object: 'realtime.item',
            type: 'message',
            status: 'completed',
            role: 'user',
            content: [{ type: 'input_audio', transcript: text }],
          },
        }),
      )
    }
    return out
  }

  #failed(event: SessionErrorEvent): Outgoing[] {
    if (event.utteranceId === undefined) return [this.error(event.error)]
    const item = this.#awaiting.shift() ?? this.#newItem()
    return [
      this.#out(
        {
          type: 'conversation.item.input_audio_transcription.failed',
          item_id: item,
          content_index: 0,
          error: { type: 'server_error', code: event.error.code, message: event.error.message, param: null },
        },
        event.error.code,
      ),
    ]
  }

  #newItem(): string {
    return `item_${randomBytes(6).toString('hex')}${(this.#items++).toString(36)}`
  }

  #sessionEvent(type: string, ga = !this.beta): Outgoing {
    const session = ga
      ? gaSession(this.#sessionId, this.#settings)
      : betaSession(this.#sessionId, this.#settings)
    return this.#out({ type, session })
  }

  #reply(message: Record<string, unknown>): Command {
    return { type: 'reply', messages: [this.#out(message)] }
  }

  #out(message: Record<string, unknown>, errorCode?: string): Outgoing {
    return { message: { ...message, event_id: this.#eventId() }, ...(errorCode ? { errorCode } : {}) }
  }

  #eventId(): string {
    return `event_${this.#sessionId.slice(5, 13)}${(this.#events++).toString(36)}`
  }
}

function ms(seconds: number): number {
  return Math.round(seconds * 1000)
}
