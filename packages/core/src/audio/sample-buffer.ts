/** A growable run of float samples: append at the end, drop from the front or cut the end. */
export class SampleBuffer {
  #data: Float32Array
  #length = 0

  constructor(initialCapacity = 16_384) {
    this.#data = new Float32Array(Math.max(16, initialCapacity))
  }

  get length(): number {
    return this.#length
  }

  append(samples: Float32Array): void {
    const needed = this.#length + samples.length
    if (needed > this.#data.length) {
      const grown = new Float32Array(Math.max(this.#data.length * 2, needed))
      grown.set(this.#data.subarray(0, this.#length))
      this.#data = grown
    }
    this.#data.set(samples, this.#length)
    this.#length = needed
  }

  /** A view of samples [start, end) that is valid until the buffer next changes. */
  view(start = 0, end = this.#length): Float32Array {
    return this.#data.subarray(start, Math.min(end, this.#length))
  }

  /** A copy of samples [start, end). */
  slice(start = 0, end = this.#length): Float32Array {
    return this.#data.slice(start, Math.min(end, this.#length))
  }

  /** Removes the first `count` samples. */
  dropFront(count: number): void {
    const n = Math.min(Math.max(0, Math.floor(count)), this.#length)
    if (n === 0) return
    this.#data.copyWithin(0, n, this.#length)
    this.#length -= n
  }

  /** Keeps only the first `length` samples. */
  truncate(length: number): void {
    this.#length = Math.min(this.#length, Math.max(0, Math.floor(length)))
  }

  clear(): void {
    this.#length = 0
  }
}
