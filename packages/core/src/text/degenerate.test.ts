import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { degenerateText } from './degenerate.js'

// Outputs recorded from the real engines by bench/record-degenerate.mjs, selected by the
// engines' own failure criteria (fixtures/degenerate/recorded.json: engine, settings, audio,
// seconds, text), with the engines' plain transcripts of the same audio.
interface Recorded {
  engine: string
  how: string
  seconds: number
  text: string
  plain: string
  /** The default decode loops too (whisper.cpp's own loop detector says so). */
  plainLoops: boolean
}
const recorded = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../../fixtures/degenerate/recorded.json', import.meta.url)),
    'utf8',
  ),
) as Recorded[]

describe('degenerateText', () => {
  it('flags every recorded degenerate output of both engines, and their plain transcripts only where those loop too', () => {
    expect(new Set(recorded.map((r) => r.engine.split(' ')[0]))).toEqual(
      new Set(['whisper.cpp', 'faster-whisper']),
    )
    for (const r of recorded) {
      expect(degenerateText(r.text, r.seconds), `${r.engine} (${r.how}): "${r.text}"`).toBeDefined()
      // faster-whisper's fallback once left "That's all I did." three times in 1.5 s: a loop.
      expect(Boolean(degenerateText(r.plain, r.seconds)), `${r.engine} plain: "${r.plain}"`).toBe(
        r.plainLoops,
      )
    }
  })

  it('flags the failures seen on real speech: a token run, a sentence said again and again', () => {
    expect(degenerateText(Array(100).fill('n').join(' '), 11)).toBe('repetition')
    const sentence = 'The birch canoe slid on the smooth planks.'
    expect(degenerateText(Array(24).fill(sentence).join(' '), 11)).toBeDefined()
    expect(degenerateText(`${sentence} ${sentence}`, 6)).toBe('repetition')
    expect(degenerateText('you you you you you', 1)).toBe('repetition')
    expect(degenerateText('a b c d e f g h i j k l m n o p', 1)).toBe('too_long')
  })

  it('lets ordinary speech through, repetition in it included', () => {
    for (const [text, seconds] of [
      ['No, no, no, that is not what I said.', 3],
      ['It is very very cold today.', 2],
      ['Thank you. Thank you.', 1.5],
      ['Go, go, go, go!', 1.5],
      ['', 1],
      ['The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.', 6],
    ] as const) {
      expect(degenerateText(text, seconds), text).toBeUndefined()
    }
  })
})
