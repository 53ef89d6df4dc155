import { createHash } from 'node:crypto'
import {
  CLOSE_CODES,
  type FinalEvent,
  normalizeWord,
  type PartialEvent,
  type SessionEvent,
  type Word,
  WsError,
  wordsOf,
} from '@ws/core'
import { AudioInput } from './audio-input.js'
import type { DeepgramOptions } from './deepgram-query.js'
import type { Command, OpenInfo, Outgoing, SessionSetup, WireProtocol } from './protocol.js'

/** The strategy of drop-in sessions: the most accurate finals on real speech (see the README). */
export const DROP_IN_STRATEGY = 'prompt'

const round = (x: number) => Math.round(x * 1000) / 1000

/** A stable UUID-shaped id for a model name (Deepgram reports one per model). */
export function modelUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** Deepgram's word: lower-case without punctuation, and as written. */
export function deepgramWord(w: Word) {
  return {
    word: normalizeWord(w.text) || w.text.toLowerCase(),
    start: round(w.start),
    end: round(w.end),
    confidence: round(w.probability ?? 1),
    punctuated_word: w.text,
    // Deepgram numbers speakers from 0; the session labels them A, B, … in the same order.
    ...(w.speaker === undefined ? {} : { speaker: speakerNumber(w.speaker) }),
  }
}

/** `A` → 0, `B` → 1, … `AA` → 26 (a name that is not a letter label, 0). */
export function speakerNumber(label: string): number {
  if (!/^[A-Z]+$/.test(label)) return 0
  let n = 0
  for (const ch of label) n = n * 26 + (ch.charCodeAt(0) - 64)
  return n - 1
}

/**
 * Deepgram's live protocol (`/v1/listen`) over the streaming session: binary audio in,
 * `Results` out (interim ones from partials, `is_final` ones from finals), `SpeechStarted`,
 * `UtteranceEnd`, and `Metadata` at the end; `KeepAlive`, `Finalize` and `CloseStream`.
 * Deepgram has no error message: bad input closes with 1008, silence with 1011.
 */
export class DeepgramProtocol implements WireProtocol {
  readonly name = 'deepgram' as const
  readonly closeCodes = { invalid: CLOSE_CODES.policyViolation, idle: CLOSE_CODES.internalError }
  /** Deepgram closes at the first message it cannot take. */
  readonly maxInvalidMessages = 1
  readonly #o: DeepgramOptions
  readonly #input: AudioInput
  readonly #sha = createHash('sha256')
  #requestId = ''
  #modelName = ''
  #finalizing = false
  #created = new Date().toISOString()

  constructor(options: DeepgramOptions) {
    this.#o = options
    this.#input = new AudioInput({
      encoding: options.encoding,
      sampleRate: options.sampleRate,
      sniffWav: options.sniffWav,
    })
  }

  session(): SessionSetup {
    const o = this.#o
    return {
      strategy: DROP_IN_STRATEGY,
      config: {
        sample_rate: this.#input.sampleRate,
        vad: 'server',
        partial_interval_ms: o.interimResults ? 500 : 0,
        word_timestamps: true,
        revisions: false,
        ...(o.diarize ? { diarize: true } : {}),
        ...(o.language ? { language: o.language } : {}),
      },
      ...(o.endpointingMs === false ? {} : { vadSegmenter: { hangoverMs: o.endpointingMs } }),
    }
  }

  open(info: OpenInfo): Outgoing[] {
    this.#requestId = info.sessionId
    this.#modelName = info.model
    this.#created = new Date().toISOString()
    return []
  }

  receive(data: Uint8Array, isBinary: boolean): Command[] {
    if (isBinary) {
      if (data.length === 0) return []
      this.#sha.update(data)
      const samples = this.#input.decode(data)
      return samples.length > 0 ? [{ type: 'audio', samples }] : []
    }
    let message: { type?: unknown }
    try {
      message = JSON.parse(Buffer.from(data).toString('utf8'))
    } catch {
      throw new WsError(
        'invalid_message',
        'DATA-0000: text messages are JSON (KeepAlive, Finalize, CloseStream)',
      )
    }
    switch (message?.type) {
      case 'KeepAlive':
        return [{ type: 'keepalive' }]
      case 'Finalize':
        // The session ends the utterance the audio sent so far stops in (its final is marked
        // from_finalize); with nothing open there, the flush is answered as an empty final.
        this.#finalizing = true
        return [
          {
            type: 'end_utterance',
            nothingOpen: () => {
              this.#finalizing = false
              return [this.#results(this.#emptyFinal())]
            },
          },
        ]
      case 'CloseStream':
        return [{ type: 'end' }]
      default:
        // `Configure` and messages of later SDKs: nothing to do.
        return []
    }
  }

  event(event: SessionEvent): Outgoing[] {
    switch (event.type) {
      case 'speech_start':
        return this.#o.vadEvents
          ? [{ message: { type: 'SpeechStarted', channel: [0, 1], timestamp: round(event.t) } }]
          : []
      case 'partial':
        return this.#o.interimResults ? [{ ...this.#results(this.#interim(event)), droppable: true }] : []
      case 'final':
        return this.#final(event)
      default:
        return []
    }
  }

  error(): Outgoing | undefined {
    return undefined
  }

  end(info: { audioEndS: number }): Outgoing[] {
    const uuid = modelUuid(this.#modelName)
    return [
      {
        message: {
          type: 'Metadata',
          transaction_key: 'deprecated',
          request_id: this.#requestId,
          sha256: this.#sha.copy().digest('hex'),
          created: this.#created,
          duration: round(info.audioEndS),
          channels: 1,
          models: [uuid],
          model_info: { [uuid]: this.#modelInfo() },
        },
      },
    ]
  }

  #modelInfo() {
    return { name: this.#modelName, version: '1', arch: 'whisper' }
  }

  #final(event: FinalEvent): Outgoing[] {
    const fromFinalize = this.#finalizing && event.reason === 'vad_end'
    if (fromFinalize) this.#finalizing = false
    const endpoint = this.#o.endpointingMs !== false && event.reason === 'speech_end'
    const words = wordsOf(event.segments).map(deepgramWord)
    const out: Outgoing[] = [
      this.#results({
        start: event.audioStart,
        end: event.audioEnd,
        isFinal: true,
        speechFinal: endpoint,
        fromFinalize,
        transcript: event.text,
        words,
        language: event.language,
      }),
    ]
    if (this.#o.utteranceEndMs !== undefined && (endpoint || fromFinalize)) {
      const last = words.length > 0 ? words[words.length - 1]!.end : round(event.audioEnd)
      out.push({ message: { type: 'UtteranceEnd', channel: [0, 1], last_word_end: last } })
    }
    return out
  }

  #interim(event: PartialEvent): ResultFields {
    // A partial has no word times: its words are spread over its audio.
    const texts = event.text.split(/\s+/).filter(Boolean)
    const span = (event.audioEnd - event.audioStart) / Math.max(1, texts.length)
    const words = texts.map((text, i) =>
      deepgramWord({ text, start: event.audioStart + i * span, end: event.audioStart + (i + 1) * span }),
    )
    return {
      start: event.audioStart,
      end: event.audioEnd,
      isFinal: false,
      speechFinal: false,
      fromFinalize: false,
      transcript: event.text,
      words,
      language: this.#o.language ?? '',
    }
  }

  #emptyFinal(): ResultFields {
    return {
      start: 0,
      end: 0,
      isFinal: true,
      speechFinal: false,
      fromFinalize: true,
      transcript: '',
      words: [],
      language: this.#o.language ?? '',
    }
  }

  #results(r: ResultFields): Outgoing {
    const confidence =
      r.words.length > 0 ? round(r.words.reduce((sum, w) => sum + w.confidence, 0) / r.words.length) : 0
    return {
      message: {
        type: 'Results',
        channel_index: [0, 1],
        duration: round(Math.max(0, r.end - r.start)),
        start: round(r.start),
        is_final: r.isFinal,
        speech_final: r.speechFinal,
        from_finalize: r.fromFinalize,
        channel: {
          alternatives: [
            {
              transcript: r.transcript,
              confidence,
              words: r.words,
              languages: r.language ? [r.language] : [],
            },
          ],
        },
        metadata: {
          request_id: this.#requestId,
          model_info: this.#modelInfo(),
          model_uuid: modelUuid(this.#modelName),
        },
      },
    }
  }
}

interface ResultFields {
  start: number
  end: number
  isFinal: boolean
  speechFinal: boolean
  fromFinalize: boolean
  transcript: string
  words: ReturnType<typeof deepgramWord>[]
  language: string
}
