/**
 * How `ws-transcribe` prints finals and revisions as text. On a terminal a final shows at once
 * and its revision rewrites it in place (when its lines are the last ones printed; otherwise
 * the revision is printed below, marked). Elsewhere (a pipe, a file) only settled text is
 * written: a final once its revision came, or when the stream ends, so the output is the best
 * transcript without rewrites; with `waitForRevisions` false (the server sends none) at once.
 */
export interface TranscriptPrinterOptions {
  write: (text: string) => void
  /** Rewrite in place with ANSI cursor moves (a terminal). */
  tty: boolean
  /** Terminal width, for the rows a line takes (default 80). */
  columns?: number
  /** Revisions will come: off a terminal, hold finals until theirs (default true). */
  waitForRevisions?: boolean
}

interface Line {
  ids: number[]
  text: string
  rows: number
}

export class TranscriptPrinter {
  readonly #o: TranscriptPrinterOptions
  /** Off a terminal: finals waiting for their revision, in order. */
  readonly #held: { id: number; text: string }[] = []
  /** On a terminal: the lines printed, most recent last. */
  readonly #lines: Line[] = []

  constructor(options: TranscriptPrinterOptions) {
    this.#o = options
  }

  final(utteranceId: number, text: string): void {
    const t = text.trim()
    if (this.#o.tty) {
      if (t) this.#print({ ids: [utteranceId], text: t, rows: 0 })
    } else if (this.#o.waitForRevisions ?? true) this.#held.push({ id: utteranceId, text: t })
    else if (t) this.#o.write(`${t}\n`)
  }

  revision(utteranceIds: readonly number[], text: string): void {
    const t = text.trim()
    if (!this.#o.tty) {
      // Finals before the revised ones had no revision of their own: they are settled too.
      const last = this.#held.findLastIndex((h) => utteranceIds.includes(h.id))
      const settled = this.#held.splice(0, last + 1).filter((h) => !utteranceIds.includes(h.id))
      for (const h of settled) if (h.text) this.#o.write(`${h.text}\n`)
      if (t) this.#o.write(`${t}\n`)
      return
    }
    const first = this.#lines.findIndex((l) => l.ids.some((id) => utteranceIds.includes(id)))
    const tail = first < 0 ? [] : this.#lines.slice(first)
    const replaceable = tail.length > 0 && tail.every((l) => l.ids.every((id) => utteranceIds.includes(id)))
    if (!replaceable) {
      if (t) this.#print({ ids: [...utteranceIds], text: `\x1b[2m(revised)\x1b[0m ${t}`, rows: 0 })
      return
    }
    const rows = tail.reduce((n, l) => n + l.rows, 0)
    this.#lines.splice(first)
    // Up to the first replaced line, clear to the end of the screen, print the revision there.
    this.#o.write(`\x1b[${rows}F\x1b[J`)
    if (t) this.#print({ ids: [...utteranceIds], text: t, rows: 0 })
  }

  /** The stream ended: what was held is printed. */
  end(): void {
    for (const h of this.#held.splice(0)) if (h.text) this.#o.write(`${h.text}\n`)
  }

  #print(line: Line): void {
    const columns = Math.max(1, this.#o.columns ?? 80)
    // A text of several lines (a final by speaker: a line per turn) takes the rows of each.
    line.rows = line.text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI styles start with ESC
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .reduce((rows, l) => rows + Math.max(1, Math.ceil(l.length / columns)), 0)
    this.#lines.push(line)
    if (this.#lines.length > 200) this.#lines.shift()
    this.#o.write(`${line.text}\n`)
  }
}
