import { describe, expect, it } from 'vitest'
import { textOfWords } from '../text/words.js'
import type { Segment, Word } from '../types.js'
import { cutContext, dropContext } from './context.js'

const w = (start: number, end: number, text: string) => ({ start, end, text })
/** One segment spanning its words. */
const one = (...words: Word[]): Segment[] => [
  { start: words[0]!.start, end: words.at(-1)!.end, text: textOfWords(words), words },
]

/** The segments' texts as they are, joined (an empty or untrimmed segment shows). */
const joined = (segments: readonly Segment[]) => segments.map((s) => s.text).join(' ')

describe('dropContext', () => {
  // 1 s of context ("was the end") then new audio ("and now the start of it").
  const segments: Segment[] = [
    { start: 0, end: 0.6, text: 'was the', words: [w(0, 0.3, 'was'), w(0.3, 0.6, 'the')] },
    {
      start: 0.6,
      end: 2.0,
      text: 'end. And now the',
      words: [w(0.6, 0.95, 'end.'), w(1.1, 1.3, 'And'), w(1.3, 1.6, 'now'), w(1.6, 2.0, 'the')],
    },
    {
      start: 2.0,
      end: 2.8,
      text: 'start of it.',
      words: [w(2.0, 2.4, 'start'), w(2.4, 2.6, 'of'), w(2.6, 2.8, 'it.')],
    },
  ]

  it('drops segments and words inside the context and shifts times back', () => {
    const out = dropContext(segments, 1.0)
    expect(out.map((s) => s.text)).toEqual(['And now the', 'start of it.'])
    expect(out[0]!.words!.map((x) => x.text)).toEqual(['And', 'now', 'the'])
    expect(out[0]!.start).toBeCloseTo(0.1, 9)
    expect(out[0]!.words![0]!.start).toBeCloseTo(0.1, 9)
    expect(out[1]).toMatchObject({ start: 1.0, end: expect.closeTo(1.8, 9) })
    expect(out[1]!.words!.map((x) => [x.text, +x.start.toFixed(3), +x.end.toFixed(3)])).toEqual([
      ['start', 1.0, 1.4],
      ['of', 1.4, 1.6],
      ['it.', 1.6, 1.8],
    ])
  })

  it('keeps exactly the words after the context in a straddling segment', () => {
    // The seed kept the whole straddling segment, repeating "end."
    const out = dropContext(segments, 1.0)
    const text = joined(out)
    expect(text).not.toContain('end')
    expect(text.split(' ')).toEqual(['And', 'now', 'the', 'start', 'of', 'it.'])
  })

  it('decides a word that crosses the boundary by its middle', () => {
    const crossing: Segment[] = [
      { start: 0.5, end: 1.5, text: 'a b', words: [w(0.5, 1.2, 'a'), w(1.2, 1.5, 'b')] },
    ]
    expect(dropContext(crossing, 0.9)[0]!.text).toBe('b') // middle of "a" is 0.85 < 0.9
    expect(dropContext(crossing, 0.8)[0]!.text).toBe('a b')
  })

  it('splits a straddling segment without words by an even estimate', () => {
    const noWords: Segment[] = [{ start: 0, end: 2, text: 'one two three four' }]
    const out = dropContext(noWords, 1)
    expect(out).toHaveLength(1)
    expect(out[0]!.text).toBe('three four')
    expect(out[0]!.words).toBeUndefined()
  })

  it('changes nothing without context', () => {
    expect(dropContext(segments, 0)).toEqual(segments)
  })

  describe('with the previous final', () => {
    // Context: "parked truck. The hogs" (the cut fell inside "The hogs were fed"); the
    // previous final ended at "parked truck." because Whisper dropped the fragment.
    const cut = one(
      w(0, 0.3, 'parked'),
      w(0.3, 0.6, 'truck.'),
      w(0.7, 0.8, 'The'),
      w(0.8, 0.95, 'hogs'),
      w(1.0, 1.4, 'were'),
      w(1.4, 2.2, 'fed'),
    )

    it('keeps the words the previous final did not have', () => {
      const out = dropContext(cut, 1.0, 'The box was thrown beside the parked truck.')
      expect(joined(out)).toBe('The hogs were fed')
      expect(out[0]!.words![0]!.start).toBe(0)
    })

    it('drops context words that repeat the previous final, also when heard slightly differently', () => {
      expect(joined(dropContext(cut, 1.0, 'beside the parked truck. The hogs'))).toBe('were fed')
      expect(joined(dropContext(cut, 1.0, 'beside the parked trunk. The hogs'))).toBe('were fed')
    })

    it('drops words timed just after the context that repeat the end of the previous final', () => {
      // whisper.cpp's DTW times "corn and" late: they were in the context, and in the last final.
      const late = one(
        w(0.7, 1.38, 'corn'),
        w(1.38, 1.78, 'and'),
        w(1.78, 2.78, 'garbage.'),
        w(2.9, 3.3, 'Four'),
        w(3.3, 3.6, 'hours'),
      )
      const text = (previous: string) => joined(dropContext(late, 1.0, previous))
      expect(text('The hogs were fed chopped corn and...')).toBe('garbage. Four hours')
      expect(text('The hogs were fed chopped corn')).toBe('and garbage. Four hours')
      // Not the end of the previous final: kept.
      expect(text('The hogs were fed chopped')).toBe('corn and garbage. Four hours')
      expect(text('The hogs were fed corn and garbage.')).toBe('corn and garbage. Four hours')
    })

    it('drops words just after the context that say the previous final’s last words again, however the context was heard', () => {
      // Real telephone speech: the context ("…or unmute yourself") heard as "or unmeet", and
      // "yourself" timed just after it, where the new utterance starts.
      const echo = one(
        w(0.2, 0.4, 'or'),
        w(0.4, 0.9, 'unmeet'),
        w(0.95, 1.4, 'yourself,'),
        w(1.6, 1.8, '2'),
        w(1.8, 1.9, 'to'),
        w(1.9, 2.2, 'lock'),
      )
      expect(joined(dropContext(echo, 1.0, 'Please press 1 to mute or unmute yourself.'))).toBe('2 to lock')
      // Said again on purpose, later than the late-word bound: kept.
      const later = one(w(0.2, 0.9, 'unmute'), w(1.9, 2.3, 'yourself'), w(2.3, 2.6, 'now'))
      expect(joined(dropContext(later, 1.0, 'mute or unmute yourself.'))).toBe('yourself now')
    })

    it('drops a first word after the context that is a piece of the previous final’s end said again', () => {
      // Real telephone speech: "…audio disabled" then "abled. Press 1…"; "…hash key" then
      // "hashkey"; "…reject it" then "rejected" (an edit per four letters).
      const after = (word: string) =>
        one(w(0.3, 0.9, 'x'), w(1.0, 1.3, word), w(1.5, 1.8, 'Press'), w(1.8, 2.0, '1.'))
      expect(joined(dropContext(after('abled.'), 1.0, 'Audio disabled.'))).toBe('Press 1.')
      expect(joined(dropContext(after('Hashkey.'), 1.0, 'followed by the hash key.'))).toBe('Press 1.')
      expect(joined(dropContext(after('rejected,'), 1.0, 'Press 2 to reject it.'))).toBe('Press 1.')
      // A new word that is not how the previous text ends, a short one, or one said later: kept.
      expect(joined(dropContext(after('Goodbye.'), 1.0, 'Audio disabled.'))).toBe('Goodbye. Press 1.')
      expect(joined(dropContext(after('Ed'), 1.0, 'Audio disabled.'))).toBe('Ed Press 1.')
      const later = one(w(0.3, 0.9, 'x'), w(2.0, 2.3, 'abled'), w(2.5, 2.8, 'now'))
      expect(joined(dropContext(later, 1.0, 'Audio disabled.'))).toBe('abled now')
    })

    it('drops context heard differently from the previous final (the time rule)', () => {
      const text = (previous: string) => joined(dropContext(cut, 1.0, previous))
      expect(text('by the parked, the truck, hogs')).toBe('were fed') // the same words, not in line
      expect(dropContext(segments, 1.0, 'it was the end.').map((s) => s.text)).toEqual([
        'And now the',
        'start of it.',
      ])
    })

    it('drops context words that line up with nothing in the previous final', () => {
      // Real telephone speech, whisper.cpp tiny.en: the context ("…our glorious leader
      // arrives", then silence) heard as "After a rise", the new utterance "Message marked urgent."
      const misheard = one(
        w(0.22, 0.46, 'After'),
        w(0.46, 0.9, 'a'),
        w(0.9, 1.72, 'rise,'),
        w(1.72, 2.24, 'message'),
        w(2.24, 2.82, 'marked'),
        w(2.82, 2.82, 'urgent.'),
      )
      const previous = 'The conference will begin when our glorious leader arrives.'
      expect(joined(dropContext(misheard, 1.0, previous))).toBe('message marked urgent.')
    })

    it('keeps a first word pulled back over context the decode skipped', () => {
      // A prompted decode often skips the context's words (its prompt holds them); DTW then
      // starts the first new word at the first frame: "the" spans the context's silence.
      const skipped = one(w(0.22, 1.6, 'the'), w(1.6, 2.1, 'party'), w(2.1, 2.4, 'rang'))
      expect(joined(dropContext(skipped, 1.0, 'Press 2 to use the directory.'))).toBe('the party rang')
      // The same shape, but the word is the previous final's last word: heard in the context.
      const heard = one(w(0.62, 1.6, 'directory.'), w(1.6, 2.1, 'party'), w(2.1, 2.4, 'rang'))
      expect(joined(dropContext(heard, 1.0, 'Press 2 to use the directory.'))).toBe('party rang')
    })

    it('drops a later word that starts in the context and runs over the pause after it', () => {
      // A word ends where the next starts: the last context word spans the pause.
      const spans = one(
        w(0.36, 0.94, 'the'),
        w(0.94, 1.66, 'conference,'),
        w(1.66, 1.9, '7'),
        w(1.9, 2.3, 'or'),
      )
      expect(joined(dropContext(spans, 1.0, 'to lock or unlock the conference.'))).toBe('7 or')
    })

    it('drops a misheard word with punctuation after it, across the end of the context', () => {
      // Real telephone speech, whisper.cpp tiny.en: "…the 9 key for Z." carried, then "Incoming
      // call from", heard as "Keep Rizzie," stretched over the pause. It lines up with nothing
      // in the previous final, and the pause after it shows: heard in the context (the louder
      // side of the cut was no sign: the stretch is mostly pause).
      const previous = 'Using your Touchtone keypad, use the 7 key for Q and the 9 key for Z.'
      const cpp = one(
        w(0.32, 0.38, 'Keep'),
        w(0.38, 1.76, 'Rizzie,'),
        w(1.76, 2.3, 'incoming'),
        w(2.3, 2.58, 'call'),
      )
      const audio = new Float32Array(48_000).fill(0.01).fill(0.2, 17_000, 48_000)
      expect(joined(dropContext(cpp, 1.0, previous, audio))).toBe('incoming call')
      // A word that ends the decode has no new speech after it: the usual rules decide.
      const last = one(w(0.5, 0.9, 'Keep'), w(0.9, 1.8, 'Yes.'))
      expect(joined(dropContext(last, 1.0, previous, audio))).toBe('Yes.')
      // Nor does the rule take a first word: over context the decode skipped, it may be new
      // speech ("Yes," answering). faster-whisper's "Keepersy." for "…for Z" stays, and the
      // strategy, which sees nothing heard in the context, decodes the final again without it.
      const answer = one(w(0.22, 1.6, 'Yes,'), w(1.6, 2.1, 'party'), w(2.1, 2.4, 'rang'))
      expect(cutContext(answer, 1.0, previous, audio)).toMatchObject({
        heard: 0,
        segments: [{ text: 'Yes, party rang' }],
      })
      const faster = one(w(0, 1.24, 'Keepersy.'), w(1.24, 1.88, 'Incoming'), w(1.88, 2.3, 'call'))
      expect(cutContext(faster, 1.0, previous, audio).heard).toBe(0)
    })
  })

  describe('cutContext', () => {
    it('counts the words heard in the context: none when the decode skipped it', () => {
      expect(cutContext(segments, 1.0).heard).toBe(3)
      const skipped = one(w(1.82, 2.3, 'to'), w(2.3, 2.52, 'reach'))
      expect(cutContext(skipped, 1.0, 'Your temporary greeting is currently active.')).toMatchObject({
        heard: 0,
        segments: [{ text: 'to reach' }],
      })
      expect(cutContext(segments, 0).heard).toBe(0)
      // Context words timed just after the cut (whisper.cpp's late DTW times) were heard too.
      const late = one(w(1.02, 1.3, 'yourself,'), w(1.3, 1.5, '2'), w(1.5, 1.8, 'to'))
      expect(cutContext(late, 1.0, 'to mute or unmute yourself.')).toMatchObject({
        heard: 1,
        segments: [{ text: '2 to' }],
      })
    })
  })
})
