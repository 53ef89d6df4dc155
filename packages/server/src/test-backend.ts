import type { TranscribeOptions, TranscriptResult, WhisperBackend } from '@ws/core'

/** What a call is for, from its options. */
export type CallKind = 'revision' | 'final' | 'partial'

/**
 * A real backend, watched: which kinds of call it started and has running, for the server's
 * tests of clients that leave in the middle of one (not part of the package's entry points).
 */
export class WatchedBackend implements WhisperBackend {
  readonly name: string
  readonly stopsRunningCalls: boolean | undefined
  readonly wordProbabilities: boolean | undefined
  readonly started = new Map<CallKind, number>()
  readonly #running = new Map<CallKind, number>()
  readonly #inner: WhisperBackend

  constructor(inner: WhisperBackend) {
    this.#inner = inner
    this.name = inner.name
    this.stopsRunningCalls = inner.stopsRunningCalls
    this.wordProbabilities = inner.wordProbabilities
  }

  /** Calls started, of every kind. */
  get calls(): number {
    let n = 0
    for (const v of this.started.values()) n += v
    return n
  }

  /** Calls running now, of `kind` or of every kind. */
  running(kind?: CallKind): number {
    if (kind) return this.#running.get(kind) ?? 0
    let n = 0
    for (const v of this.#running.values()) n += v
    return n
  }

  loadModel(model: string) {
    return this.#inner.loadModel(model)
  }

  close() {
    return this.#inner.close()
  }

  async transcribe(
    audio: Float32Array,
    rate: number,
    options: TranscribeOptions = {},
  ): Promise<TranscriptResult> {
    const kind: CallKind = options.background ? 'revision' : options.preview ? 'partial' : 'final'
    const bump = (map: Map<CallKind, number>, by: number) => map.set(kind, (map.get(kind) ?? 0) + by)
    bump(this.#running, 1)
    bump(this.started, 1)
    try {
      return await this.#inner.transcribe(audio, rate, options)
    } finally {
      bump(this.#running, -1)
    }
  }
}
