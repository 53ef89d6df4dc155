import { createHash } from 'node:crypto'
import { withDefaults } from '@ws/core'

export interface AudioStoreOptions {
  /** Most bytes kept; the least recently used files go first (default 64 MiB). */
  maxBytes?: number
}

export const DEFAULT_AUDIO_STORE_OPTIONS = { maxBytes: 64 * 1024 * 1024 } as const

/**
 * WAV files by content: a sentence's speech is kept under the hash of its voice and text, so
 * a sentence said again is not synthesised again, and every file is served by an id that
 * cannot be guessed from another. Bounded by size, least recently used first out.
 */
export class AudioStore {
  readonly #maxBytes: number
  readonly #files = new Map<string, Uint8Array>()
  #bytes = 0

  constructor(options: AudioStoreOptions = {}) {
    const { maxBytes } = withDefaults(DEFAULT_AUDIO_STORE_OPTIONS, options)
    if (!(Number.isInteger(maxBytes) && maxBytes > 0))
      throw new RangeError('maxBytes must be a positive integer')
    this.#maxBytes = maxBytes
  }

  /** The id of a sentence's speech in a voice. */
  static key(voice: string, text: string): string {
    return createHash('sha256').update(voice).update('\0').update(text).digest('hex').slice(0, 32)
  }

  /** The id of a file by its bytes. */
  static contentKey(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex').slice(0, 32)
  }

  get bytes(): number {
    return this.#bytes
  }

  get(id: string): Uint8Array | undefined {
    const file = this.#files.get(id)
    if (file) {
      // Most recently used last.
      this.#files.delete(id)
      this.#files.set(id, file)
    }
    return file
  }

  has(id: string): boolean {
    return this.#files.has(id)
  }

  put(id: string, wav: Uint8Array): void {
    const old = this.#files.get(id)
    if (old) {
      this.#bytes -= old.length
      this.#files.delete(id)
    }
    this.#files.set(id, wav)
    this.#bytes += wav.length
    for (const [key, file] of this.#files) {
      if (this.#bytes <= this.#maxBytes || key === id) break
      this.#files.delete(key)
      this.#bytes -= file.length
    }
  }
}
