import { withDefaults } from '@ws/core'
/**
 * Cuts streamed text into sentences as they complete, so each can be spoken while the rest is
 * still being generated. A sentence ends at `.`, `!`, `?` or `…` (and closing quotes or
 * brackets after it) followed by white space, or at a line break; text shorter than
 * `minChars` joins the next sentence, so "Dr. Smith" or "1. " are not spoken alone.
 */
export interface SentenceSplitterOptions {
  /** Shortest sentence spoken alone, in characters (default 12). */
  minChars?: number
}

export const DEFAULT_SENTENCE_SPLITTER_OPTIONS = { minChars: 12 } as const

const END = /[.!?…]+["'”’)\]]*\s+|\n+/g

export class SentenceSplitter {
  readonly #minChars: number
  #pending = ''

  constructor(options: SentenceSplitterOptions = {}) {
    const { minChars } = withDefaults(DEFAULT_SENTENCE_SPLITTER_OPTIONS, options)
    if (!(Number.isInteger(minChars) && minChars >= 1))
      throw new RangeError('minChars must be a positive integer')
    this.#minChars = minChars
  }

  /** Adds streamed text; returns the sentences it completed, trimmed, in order. */
  push(text: string): string[] {
    this.#pending += text
    const out: string[] = []
    let from = 0
    END.lastIndex = 0
    for (let m = END.exec(this.#pending); m; m = END.exec(this.#pending)) {
      const end = m.index + m[0].length
      const sentence = this.#pending.slice(from, end).trim()
      if (sentence.length >= this.#minChars) {
        out.push(sentence)
        from = end
      }
    }
    this.#pending = this.#pending.slice(from)
    return out
  }

  /** The text left at the end of the stream, if any (then empty). */
  flush(): string[] {
    const rest = this.#pending.trim()
    this.#pending = ''
    return rest ? [rest] : []
  }
}
