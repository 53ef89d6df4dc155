import {
  concatFloat32,
  decodePcm16le,
  decodePcmF32le,
  isWsError,
  readWavMono,
  StreamingSession,
  toWsError,
  type VadBackend,
  WsError,
  writeWav,
} from '@ws/core'
import type { WebSocket } from 'ws'
import { AudioStore } from './audio-store.js'
import type { ChatMessage } from './chat-model.js'
import type { ResolvedVoiceOptions } from './options.js'
import { type AudioEncoding, parseVoiceMessage, type VoiceServerMessage } from './protocol.js'
import { SentenceSplitter } from './sentences.js'

/** A conversation outlives its socket for a while, so a reconnect resumes it. */
export interface Conversation {
  id: string
  history: ChatMessage[]
}

interface Recording {
  session: StreamingSession
  /** This recording's own VAD, closed with it. */
  vad: VadBackend | undefined
  encoding: AudioEncoding
  finals: string[]
  reading: Promise<void>
}

interface Turn {
  id: number
  abort: AbortController
}

/**
 * One `/voice/stream` socket: speech in (a streaming session per recording: partials, then
 * the final transcript at `audio_end`), the answer out (streamed from the chat model, cut
 * into sentences, each spoken and served by URL, in order). A new recording, a `text` or a
 * `cancel` stops an answer at once: after `response_cancelled`, nothing more of it is sent.
 * A stage's failure is an `error` message; the socket stays open.
 */
export class VoiceSession {
  readonly #ws: WebSocket
  readonly #c: Conversation
  readonly #o: ResolvedVoiceOptions
  #recording: Recording | undefined
  #turn: Turn | undefined
  #turns = 0
  #warnedNoRecording = false
  #closed = false
  /** Messages are handled one after another, in order (a recording's frames wait for its VAD). */
  #handling: Promise<void> = Promise.resolve()

  constructor(ws: WebSocket, conversation: Conversation, options: ResolvedVoiceOptions, resumed: boolean) {
    this.#ws = ws
    this.#c = conversation
    this.#o = options
    ws.on('message', (data, isBinary) => {
      this.#handling = this.#handling
        .then(() => this.#onMessage(data as Buffer, isBinary))
        .catch((err: unknown) => this.#error(err, 'internal_error'))
    })
    ws.on('close', () => void this.close())
    ws.on('error', () => void this.close())
    this.#send({ type: 'ready', session_id: conversation.id, resumed })
  }

  /** Stops the answer and the recording; the conversation is kept. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#turn?.abort.abort()
    const recording = this.#recording
    this.#recording = undefined
    await recording?.session.close()
    await recording?.vad?.close?.()
  }

  #send(message: VoiceServerMessage): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(message))
  }

  #error(err: unknown, fallback: Parameters<typeof toWsError>[1], responseId?: number): void {
    const e = toWsError(err, fallback)
    this.#o.logger?.warn({ code: e.code, err: e.message, session: this.#c.id }, 'voice session error')
    this.#send({
      type: 'error',
      code: e.code,
      message: e.message,
      ...(responseId === undefined ? {} : { response_id: responseId }),
    })
  }

  async #onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.#closed) return
    if (isBinary) return this.#onAudio(data)
    let message: ReturnType<typeof parseVoiceMessage>
    try {
      message = parseVoiceMessage(data.toString('utf8'))
    } catch (err) {
      return this.#error(err, 'invalid_message')
    }
    switch (message.type) {
      case 'audio_start': {
        // The user speaks: whatever is being answered stops (barge-in).
        this.#cancelTurn()
        if (this.#recording)
          return this.#error(
            new WsError('invalid_message', 'Already recording: send audio_end first'),
            'invalid_message',
          )
        const rate = message.format?.sample_rate ?? 16_000
        await this.#startRecording(message.format?.encoding ?? 'pcm_s16le', rate)
        return
      }
      case 'audio_end':
        return this.#endRecording()
      case 'text':
        this.#cancelTurn()
        void this.#answer(message.content.trim())
        return
      case 'cancel':
        return this.#cancelTurn()
    }
  }

  async #startRecording(encoding: AudioEncoding, sampleRate: number): Promise<void> {
    const o = this.#o
    let session: StreamingSession
    let vad: VadBackend | undefined
    try {
      vad = o.createVad ? await o.createVad() : undefined
      session = new StreamingSession({
        backend: o.backend,
        strategy: o.strategy,
        sampleRate,
        partialIntervalMs: o.partialIntervalMs,
        ...(vad ? { vad } : {}),
        ...(o.gate ? { gate: o.gate } : {}),
        ...(o.logger ? { logger: o.logger } : {}),
      })
    } catch (err) {
      await vad?.close?.()
      return this.#error(err, 'invalid_config')
    }
    if (this.#closed) {
      await session.close()
      await vad?.close?.()
      return
    }
    const finals: string[] = []
    const reading = (async () => {
      for await (const e of session) {
        if (e.type === 'speech_start') this.#cancelTurn()
        else if (e.type === 'partial') {
          const text = [...finals, e.text].join(' ').trim()
          if (text) this.#send({ type: 'partial_transcript', text, is_final: false })
        } else if (e.type === 'final') {
          if (e.text.trim()) finals.push(e.text.trim())
          if (finals.length > 0)
            this.#send({ type: 'partial_transcript', text: finals.join(' '), is_final: false })
        } else if (e.type === 'error') this.#error(e.error, 'backend_failed')
      }
    })()
    this.#recording = { session, vad, encoding, finals, reading }
    this.#warnedNoRecording = false
  }

  #onAudio(data: Buffer): void {
    const r = this.#recording
    if (!r) {
      if (!this.#warnedNoRecording)
        this.#error(new WsError('invalid_message', 'Audio before audio_start'), 'invalid_message')
      this.#warnedNoRecording = true
      return
    }
    const width = r.encoding === 'pcm_f32le' ? 4 : 2
    if (data.length % width !== 0) {
      this.#error(
        new WsError(
          'invalid_frame',
          `A ${r.encoding} frame holds whole ${width}-byte samples; got ${data.length} bytes`,
        ),
        'invalid_frame',
      )
      return
    }
    if (data.length === 0) return
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length)
    try {
      r.session.pushAudio(r.encoding === 'pcm_f32le' ? decodePcmF32le(bytes) : decodePcm16le(bytes))
    } catch (err) {
      this.#error(err, 'invalid_audio')
    }
  }

  async #endRecording(): Promise<void> {
    const r = this.#recording
    if (!r)
      return this.#error(new WsError('invalid_message', 'audio_end without audio_start'), 'invalid_message')
    this.#recording = undefined
    await r.session.end()
    await r.reading
    await r.vad?.close?.()
    if (this.#closed) return
    const text = r.finals.join(' ').trim()
    this.#send({ type: 'final_transcript', text, is_final: true })
    if (!text) return this.#error(new WsError('invalid_audio', 'No speech was heard'), 'invalid_audio')
    // The answer streams on its own: a cancel or a new recording is handled meanwhile.
    void this.#answer(text)
  }

  #cancelTurn(): void {
    const turn = this.#turn
    if (!turn) return
    this.#turn = undefined
    turn.abort.abort()
    this.#send({ type: 'response_cancelled', response_id: turn.id })
  }

  /** Streams the model's answer to `question`, speaking each sentence as it completes. */
  async #answer(question: string): Promise<void> {
    const o = this.#o
    const turn: Turn = { id: ++this.#turns, abort: new AbortController() }
    this.#turn = turn
    const { signal } = turn.abort
    const live = () => !signal.aborted && !this.#closed
    const history = this.#c.history
    const messages: ChatMessage[] = [
      ...(o.systemPrompt ? [{ role: 'system' as const, content: o.systemPrompt }] : []),
      ...history,
      { role: 'user', content: question },
    ]
    const splitter = new SentenceSplitter()
    const spoken: (Uint8Array | undefined)[] = []
    let speaking = Promise.resolve()
    const speak = (sentence: string) => {
      const index = spoken.length
      spoken.push(undefined)
      speaking = speaking.then(async () => {
        if (!live()) return
        try {
          const id = AudioStore.key(o.tts.voice, sentence)
          let wav = o.audio.get(id)
          if (!wav) {
            wav = await o.tts.synthesize(sentence, { signal })
            o.audio.put(id, wav)
          }
          spoken[index] = wav
          if (live())
            this.#send({
              type: 'audio_chunk',
              response_id: turn.id,
              index,
              text: sentence,
              url: `${o.audioPath}${id}.wav`,
            })
        } catch (err) {
          // The sentence is skipped; the answer goes on.
          if (live()) this.#error(err, 'tts_failed', turn.id)
        }
      })
    }
    let text = ''
    try {
      for await (const delta of o.chat.stream(messages, { maxTokens: o.maxTokens, signal })) {
        if (!live()) break
        text += delta
        this.#send({ type: 'response_chunk', response_id: turn.id, text: delta, accumulated: text })
        for (const sentence of splitter.push(delta)) speak(sentence)
      }
      if (live()) for (const sentence of splitter.flush()) speak(sentence)
      await speaking
      if (!live()) return
      const audioUrl = this.#whole(spoken)
      this.#send({ type: 'response_complete', response_id: turn.id, text: text.trim(), audio_url: audioUrl })
    } catch (err) {
      if (!live() || isWsError(err, 'aborted')) return
      this.#error(err, 'llm_failed', turn.id)
    } finally {
      // What was said stays in the conversation, a cut answer as far as it went.
      if (text.trim() || live()) history.push({ role: 'user', content: question })
      if (text.trim()) history.push({ role: 'assistant', content: text.trim() })
      // Past the limit the conversation drops its older half at once, not a message a turn:
      // the model reuses what it read of an unchanged beginning, and a window sliding every
      // turn would make it read everything again each time (first chunk 0.7 → 2.5 s).
      if (history.length > o.maxHistoryMessages)
        history.splice(0, history.length - Math.floor(o.maxHistoryMessages / 2))
      if (this.#turn === turn) this.#turn = undefined
    }
  }

  /** The answer's sentences as one WAV, served like them; null when none was spoken. */
  #whole(spoken: (Uint8Array | undefined)[]): string | null {
    const files = spoken.filter((w): w is Uint8Array => w !== undefined)
    if (files.length === 0) return null
    const decoded = files.map((f) => readWavMono(f))
    const rate = decoded[0]!.sampleRate
    if (decoded.some((d) => d.sampleRate !== rate)) return null
    const wav = writeWav(concatFloat32(decoded.map((d) => d.samples)), rate)
    const id = AudioStore.contentKey(wav)
    this.#o.audio.put(id, wav)
    return `${this.#o.audioPath}${id}.wav`
  }
}
