import { describe, expect, it } from 'vitest'
import { TranscriptPrinter } from './transcript-printer.js'

/** A terminal of `columns` that understands the moves the printer uses: its screen's lines. */
function terminal(columns: number) {
  const rows: string[] = []
  const write = (text: string) => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal's control sequences start with ESC
    const plain = text.replace(/\x1b\[[0-9;]*m/g, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: as above
    for (const m of plain.matchAll(/\x1b\[(\d+)F\x1b\[J|([^\x1b\n]*)\n/g)) {
      if (m[1]) rows.splice(rows.length - Number(m[1]))
      else {
        const line = m[2]!
        for (let i = 0; i < Math.max(1, Math.ceil(line.length / columns)); i++)
          rows.push(line.slice(i * columns, (i + 1) * columns))
      }
    }
  }
  return { rows, write }
}

describe('TranscriptPrinter', () => {
  it('on a terminal, shows finals at once and rewrites them in place with their revision, wrapped lines included', () => {
    const t = terminal(20)
    const p = new TranscriptPrinter({ write: t.write, tty: true, columns: 20 })
    p.final(0, 'the birch canoe slid')
    p.final(1, 'on the smooth planks glued to the sheet')
    p.final(2, 'it is easy to tell')
    expect(t.rows).toHaveLength(1 + 2 + 1)
    p.revision([1, 2], 'on the smooth planks. Glue the sheet. It is easy to tell.')
    expect(t.rows.join('')).toBe(
      'the birch canoe slidon the smooth planks. Glue the sheet. It is easy to tell.',
    )
    // A revision of lines no longer last is printed below, marked.
    p.final(3, 'the depth of a well')
    p.revision([0], 'The birch canoe slid.')
    expect(t.rows.slice(-2).join('')).toBe('(revised) The birch canoe slid.')
  })

  it('off a terminal, writes each final once settled: revised, or at the end, in order', () => {
    const out: string[] = []
    const p = new TranscriptPrinter({ write: (s) => out.push(s), tty: false })
    p.final(0, 'one')
    p.final(1, 'two')
    p.final(2, 'three')
    expect(out).toEqual([])
    p.revision([1, 2], 'Two, three.')
    expect(out).toEqual(['one\n', 'Two, three.\n'])
    p.final(3, 'four')
    p.end()
    expect(out).toEqual(['one\n', 'Two, three.\n', 'four\n'])
    const now: string[] = []
    const q = new TranscriptPrinter({ write: (s) => now.push(s), tty: false, waitForRevisions: false })
    q.final(0, 'at once')
    expect(now).toEqual(['at once\n'])
  })

  it('rewrites a final of several lines (one per speaker) in place', () => {
    const t = terminal(20)
    const p = new TranscriptPrinter({ write: t.write, tty: true, columns: 20 })
    p.final(0, 'before')
    p.final(1, '[A] Hello there.\n[B] Hi, how are you today?')
    expect(t.rows).toHaveLength(1 + 1 + 2)
    p.revision([1], '[A] Hello there!\n[B] Hi!')
    expect(t.rows).toEqual(['before', '[A] Hello there!', '[B] Hi!'])
  })
})
