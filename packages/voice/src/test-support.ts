// What the voice tests share (not part of the package: no entry point imports it).
import { isWsError, readWavMono, resample } from '@ws/core'
import WebSocket from 'ws'
import type { VoiceServerMessage } from './protocol.js'
import { EspeakSynthesizer } from './tts.js'

/** A client of `/voice/stream` that keeps every message with the time it came. */
export class VoiceTestClient {
  readonly messages: (VoiceServerMessage & { at: number })[] = []
  readonly ws: WebSocket
  readonly #waiters: {
    test: (m: VoiceServerMessage) => boolean
    resolve: (m: VoiceServerMessage) => void
  }[] = []

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as VoiceServerMessage
      this.messages.push({ ...m, at: performance.now() })
      for (const w of [...this.#waiters]) {
        if (w.test(m)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1)
          w.resolve(m)
        }
      }
    })
  }

  /** Messages before this index were consumed by `next()`. */
  #cursor = 0

  /**
   * The next message of `type` that passes `test`, after the one the previous `next()`
   * returned: already received, or awaited.
   */
  next<T extends VoiceServerMessage['type']>(
    type: T,
    test: (m: Extract<VoiceServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 60_000,
  ): Promise<Extract<VoiceServerMessage, { type: T }>> {
    const ok = (m: VoiceServerMessage) =>
      m.type === type && test(m as Extract<VoiceServerMessage, { type: T }>)
    const found = this.messages.findIndex((m, i) => i >= this.#cursor && ok(m))
    if (found >= 0) {
      this.#cursor = found + 1
      return Promise.resolve(this.messages[found] as unknown as Extract<VoiceServerMessage, { type: T }>)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} in ${timeoutMs} ms`)), timeoutMs)
      this.#waiters.push({
        test: ok,
        resolve: (m) => {
          clearTimeout(timer)
          this.#cursor = this.messages.length
          resolve(m as Extract<VoiceServerMessage, { type: T }>)
        },
      })
    })
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message))
  }

  of<T extends VoiceServerMessage['type']>(
    type: T,
  ): (Extract<VoiceServerMessage, { type: T }> & { at: number })[] {
    return this.messages.filter((m) => m.type === type) as (Extract<VoiceServerMessage, { type: T }> & {
      at: number
    })[]
  }

  /** Sends 16 kHz audio as PCM16 frames of 20 ms between audio_start and audio_end, at real-time pace if asked. */
  async speak(samples: Float32Array, realtime = false): Promise<void> {
    this.send({ type: 'audio_start', format: { encoding: 'pcm_s16le', sample_rate: 16_000 } })
    const started = performance.now()
    for (let i = 0, k = 0; i < samples.length; i += 320, k++) {
      const frame = samples.subarray(i, i + 320)
      const pcm = new Int16Array(frame.length)
      for (let j = 0; j < frame.length; j++)
        pcm[j] = Math.max(-32768, Math.min(32767, Math.round(frame[j]! * 32767)))
      this.ws.send(pcm)
      if (realtime) {
        const due = started + (k + 1) * 20 - performance.now()
        if (due > 0) await new Promise((r) => setTimeout(r, due))
      } else if (k % 25 === 0) await new Promise((r) => setImmediate(r))
    }
    this.send({ type: 'audio_end' })
  }

  close(): void {
    this.ws.close()
  }
}

/** A question spoken by espeak-ng, at 16 kHz with half a second of silence around it. */
export async function spokenQuestion(text: string): Promise<Float32Array> {
  const wav = await new EspeakSynthesizer().synthesize(text)
  const { sampleRate, samples } = readWavMono(wav)
  const speech = resample(samples, sampleRate, 16_000)
  const out = new Float32Array(speech.length + 16_000)
  out.set(speech, 8000)
  return out
}

/** The code of the WsError a promise rejects with ('none' if it resolves). */
export const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (isWsError(e) ? e.code : `untyped: ${e}`),
  )
