import { type VadBackend, VadSegmenter, WHISPER_SAMPLE_RATE, WsError } from '@ws/core'

export type ClientVadName = 'webrtc' | 'silero'

/**
 * Voice activity detection on the client, as the seeds' client did: it tells when an
 * utterance ended so the client sends `vad_end` (connect with `vad: 'client'`). The VAD
 * packages are optional peer dependencies.
 */
export class ClientVad {
  readonly #vad: VadBackend
  readonly #segmenter: VadSegmenter
  #carry = new Float32Array(0)

  private constructor(vad: VadBackend) {
    this.#vad = vad
    this.#segmenter = new VadSegmenter(vad.frameSamples, WHISPER_SAMPLE_RATE, vad.segmenterDefaults)
  }

  static async create(name: ClientVadName): Promise<ClientVad> {
    const spec = name === 'silero' ? '@ws/vad-silero' : '@ws/vad-webrtc'
    let module: { createVad: () => Promise<VadBackend> }
    try {
      module = (await import(spec)) as typeof module
    } catch {
      throw new WsError('invalid_config', `Client-side VAD "${name}" needs ${spec}: npm install ${spec}`)
    }
    return new ClientVad(await module.createVad())
  }

  /** Feeds 16 kHz audio; resolves to the number of utterances that ended in it. */
  async push(samples: Float32Array): Promise<number> {
    const joined = new Float32Array(this.#carry.length + samples.length)
    joined.set(this.#carry)
    joined.set(samples, this.#carry.length)
    const n = this.#vad.frameSamples
    let ended = 0
    let offset = 0
    for (; offset + n <= joined.length; offset += n) {
      const speech = await this.#vad.isSpeech(joined.subarray(offset, offset + n))
      for (const e of this.#segmenter.push(speech)) if (e.type === 'speech_end') ended++
    }
    this.#carry = joined.slice(offset)
    return ended
  }

  async close(): Promise<void> {
    await this.#vad.close?.()
  }
}
