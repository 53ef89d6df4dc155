import { describe, expect, it } from 'vitest'
import { formatTurns, segmentsToSrt, segmentsToVtt, speakerText, speakerTurns } from './speaker-format.js'

const diarized = [
  { start: 0, end: 1.2, text: ' Hello there.', speaker: 'A' },
  { start: 1.2, end: 2.314, text: 'How are you?', speaker: 'A' },
  { start: 2.5, end: 4, text: ' Fine, thanks.', speaker: 'B' },
  { start: 4, end: 4.2, text: '  ', speaker: 'B' },
  { start: 4.5, end: 61.25, text: 'Good <news> & more.', speaker: 'Alice Smith' },
]

describe('speaker turns', () => {
  it('joins consecutive segments of one speaker and prints a line per turn', () => {
    expect(speakerTurns(diarized).map((t) => [t.speaker, t.start, t.end])).toEqual([
      ['A', 0, 2.314],
      ['B', 2.5, 4],
      ['Alice Smith', 4.5, 61.25],
    ])
    expect(formatTurns(diarized)).toBe(
      '[A] 0.00–2.31  Hello there. How are you?\n' +
        '[B] 2.50–4.00  Fine, thanks.\n' +
        '[Alice Smith] 4.50–61.25  Good <news> & more.\n',
    )
  })

  it('marks a segment the diarizer left without a speaker', () => {
    expect(formatTurns([{ start: 0, end: 1, text: 'hm' }])).toBe('[?] 0.00–1.00  hm\n')
  })
})

describe('subtitles with speakers', () => {
  it('SRT: a cue per segment, tagged [A]', () => {
    expect(segmentsToSrt(diarized.slice(0, 3))).toBe(
      '1\n00:00:00,000 --> 00:00:01,200\n[A] Hello there.\n\n' +
        '2\n00:00:01,200 --> 00:00:02,314\n[A] How are you?\n\n' +
        '3\n00:00:02,500 --> 00:00:04,000\n[B] Fine, thanks.\n',
    )
  })

  it('VTT: voice spans <v A>, the text escaped; empty segments dropped', () => {
    expect(segmentsToVtt(diarized.slice(2))).toBe(
      'WEBVTT\n\n' +
        '00:00:02.500 --> 00:00:04.000\n<v B>Fine, thanks.\n\n' +
        '00:00:04.500 --> 00:01:01.250\n<v Alice Smith>Good &lt;news&gt; &amp; more.\n',
    )
  })

  it('cues in order, none past the next one nor of zero length (issue 62’s times)', () => {
    const srt = segmentsToSrt([
      { start: 9, end: 10, text: 'I needed to design.', speaker: 'A' },
      { start: 8.98, end: 9.46, text: "I didn't know", speaker: 'B' },
      { start: 14.12, end: 14.12, text: 'Jersey.', speaker: 'A' },
    ])
    expect(srt).toBe(
      "1\n00:00:08,980 --> 00:00:09,000\n[B] I didn't know\n\n" +
        '2\n00:00:09,000 --> 00:00:10,000\n[A] I needed to design.\n\n' +
        '3\n00:00:14,120 --> 00:00:14,130\n[A] Jersey.\n',
    )
  })

  it('without speakers: plain cues', () => {
    const plain = [{ start: 3661.5, end: 3662, text: 'one' }]
    expect(segmentsToSrt(plain)).toBe('1\n01:01:01,500 --> 01:01:02,000\none\n')
    expect(segmentsToVtt(plain)).toBe('WEBVTT\n\n01:01:01.500 --> 01:01:02.000\none\n')
  })
})

describe('speakerText (live finals)', () => {
  it('a line per change of speaker', () => {
    expect(speakerText(diarized.slice(0, 3), 'ignored')).toBe(
      '[A] Hello there. How are you?\n[B] Fine, thanks.',
    )
  })

  it('the plain text when the segments carry no speaker', () => {
    expect(speakerText([{ start: 0, end: 1, text: ' hi' }], ' Hi. ')).toBe('Hi.')
  })
})
