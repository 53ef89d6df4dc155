/**
 * The audio a session sent lately, by its place in the stream, so that after a reconnection
 * the part no server finalised can be sent again: bounded by `maxSeconds` (older audio is
 * dropped), cut at sample boundaries.
 */
export class ReplayBuffer {
  readonly #chunks: { at: number; bytes: Uint8Array; seconds: number }[] = []
  #seconds = 0

  constructor(
    readonly maxSeconds: number,
    readonly sampleRate: number,
    readonly bytesPerSample: number,
  ) {}

  /** Seconds held. */
  get seconds(): number {
    return this.#seconds
  }

  /** Keeps `bytes` (`seconds` long), sent at stream second `at`. */
  push(at: number, bytes: Uint8Array, seconds: number): void {
    if (this.maxSeconds <= 0 || bytes.byteLength === 0) return
    this.#chunks.push({ at, bytes: bytes.slice(), seconds })
    this.#seconds += seconds
    while (this.#chunks.length > 1 && this.#seconds - this.#chunks[0]!.seconds >= this.maxSeconds) {
      this.#seconds -= this.#chunks.shift()!.seconds
    }
  }

  /**
   * The audio from stream second `from` on: `start` is where it begins (later than `from`
   * when that audio was already dropped; the end of what was pushed when nothing is held).
   */
  since(from: number): { start: number; chunks: Uint8Array[] } {
    const chunks: Uint8Array[] = []
    let start: number | undefined
    for (const c of this.#chunks) {
      if (c.at + c.seconds <= from) continue
      if (c.at >= from) {
        start ??= c.at
        chunks.push(c.bytes)
        continue
      }
      // `from` falls inside this chunk: cut at the sample.
      const skip = Math.round((from - c.at) * this.sampleRate)
      start = c.at + skip / this.sampleRate
      const rest = c.bytes.subarray(skip * this.bytesPerSample)
      if (rest.byteLength > 0) chunks.push(rest)
    }
    const last = this.#chunks.at(-1)
    start ??= Math.max(from, last ? last.at + last.seconds : from)
    // Positions are sums of frame lengths: within half a sample of `from` is `from`.
    return { start: Math.abs(start - from) < 0.5 / this.sampleRate ? from : start, chunks }
  }

  clear(): void {
    this.#chunks.length = 0
    this.#seconds = 0
  }
}
