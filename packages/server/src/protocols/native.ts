import {
  CLOSE_CODES,
  DEFAULT_SESSION_CONFIG,
  decodeAudioFrame,
  decodePcm16le,
  decodePcmF32le,
  errorMessage,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  type SessionConfig,
  type SessionEndMessage,
  type SessionEvent,
  type StrategyName,
  sessionEventToMessage,
  WsError,
} from '@ws/core'
import type { Command, OpenInfo, Outgoing, SessionSetup, WireProtocol } from './protocol.js'

const out = (message: ServerMessage): Outgoing => ({
  message,
  ...(message.type === 'partial' ? { droppable: true } : {}),
  ...(message.type === 'error' ? { errorCode: message.code } : {}),
})

/** This server's own protocol (`/ws/transcribe/{strategy}`, `@ws/client`). */
export class NativeProtocol implements WireProtocol {
  readonly name = 'native' as const
  readonly closeCodes = { invalid: CLOSE_CODES.policyViolation, idle: CLOSE_CODES.normal }
  readonly #strategy: StrategyName
  #config: SessionConfig

  constructor(strategy: StrategyName, config: SessionConfig) {
    this.#strategy = strategy
    this.#config = config
  }

  session(): SessionSetup {
    return { strategy: this.#strategy, config: this.#config }
  }

  open(info: OpenInfo): Outgoing[] {
    return [
      out({
        type: 'ready',
        session_id: info.sessionId,
        strategy: this.#strategy,
        backend: info.backend,
        model: info.model,
        sample_rate: this.#rate,
        protocol_version: PROTOCOL_VERSION,
      }),
    ]
  }

  get #rate(): number {
    return this.#config.sample_rate ?? DEFAULT_SESSION_CONFIG.sample_rate
  }

  receive(data: Uint8Array, isBinary: boolean): Command[] {
    if (isBinary) {
      const encoding = this.#config.encoding ?? DEFAULT_SESSION_CONFIG.encoding
      return [
        { type: 'audio', samples: encoding === 'pcm_f32le' ? decodePcmF32le(data) : decodePcm16le(data) },
      ]
    }
    const message = parseClientMessage(Buffer.from(data).toString('utf8'))
    switch (message.type) {
      case 'config': {
        const { type: _type, ...config } = message
        this.#config = { ...this.#config, ...config }
        return [{ type: 'config' }]
      }
      case 'audio_frame': {
        if (message.sample_rate !== undefined && message.sample_rate !== this.#rate) {
          throw new WsError(
            'unsupported_sample_rate',
            `audio_frame sample_rate ${message.sample_rate} differs from the session's ${this.#rate} Hz; set sample_rate in config`,
          )
        }
        return [{ type: 'audio', samples: decodeAudioFrame(message) }]
      }
      case 'vad_end':
        return [{ type: 'end_utterance' }]
      case 'cancel':
        return [{ type: 'cancel' }]
      case 'keepalive':
        return [{ type: 'keepalive' }]
      case 'end':
        return [{ type: 'end' }]
    }
  }

  event(event: SessionEvent): Outgoing[] {
    return [out(sessionEventToMessage(event))]
  }

  error(error: WsError, extra: { retry_after_ms?: number } = {}): Outgoing {
    return out(errorMessage(error, extra))
  }

  end(info: { reason: SessionEndMessage['reason']; audioEndS: number }): Outgoing[] {
    return [out({ type: 'session_end', reason: info.reason, audio_end: info.audioEndS })]
  }
}
