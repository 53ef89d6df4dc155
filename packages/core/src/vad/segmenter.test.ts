import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import { EnergyVad } from '../testing/fake-vad.js'
import { detectSpeech } from './detect.js'
import { type SegmenterEvent, VadSegmenter } from './segmenter.js'

// 10 ms frames at 16 kHz: 160 samples. Pattern: "S" speech, "." silence, one char a frame.
function run(pattern: string, options = {}) {
  const seg = new VadSegmenter(160, 16_000, {
    minSpeechMs: 30,
    hangoverMs: 50,
    prePaddingMs: 20,
    postPaddingMs: 20,
    ...options,
  })
  const events: SegmenterEvent[] = []
  for (const c of pattern) events.push(...seg.push(c === 'S'))
  return {
    seg,
    events,
    ms: events.map((e) => `${e.type === 'speech_start' ? '+' : '-'}${(e.sample / 16_000) * 1000}`),
  }
}

describe('VadSegmenter', () => {
  it('starts after minimum speech, with pre-padding, and ends after the hangover, with post-padding', () => {
    // speech frames 5..14 (50–150 ms)
    expect(run('.....SSSSSSSSSS..........').ms).toEqual(['+30', '-170'])
  })

  it('ignores speech shorter than the minimum', () => {
    expect(run('.....SS.........S.........').ms).toEqual([])
  })

  it('bridges pauses shorter than the hangover', () => {
    expect(run('..SSSS...SSSS.........').ms).toEqual(['+0', '-150'])
  })

  it('does not overlap the previous utterance with the next one’s padding', () => {
    const { events } = run('SSSS.....SSSS.......', { prePaddingMs: 100 })
    expect(events.map((e) => e.sample / 160)).toEqual([0, 6, 6, 15])
  })

  it('flush ends open speech at the end of the stream, and keeps a last short word', () => {
    const open = run('...SSSSSS')
    expect(open.seg.flush(9 * 160 + 50).map((e) => e.sample)).toEqual([9 * 160 + 50])
    const short = run('.....S')
    expect(short.seg.flush(6 * 160).map((e) => e.type)).toEqual(['speech_start', 'speech_end'])
  })

  it('confirmedUntil never passes the eventual end', () => {
    const seg = new VadSegmenter(160, 16_000, {
      minSpeechMs: 30,
      hangoverMs: 50,
      prePaddingMs: 0,
      postPaddingMs: 20,
    })
    let bound = 0
    for (const c of 'SSSSSS......') {
      const events = seg.push(c === 'S')
      const end = events.find((e) => e.type === 'speech_end')
      if (end) expect(end.sample).toBeGreaterThanOrEqual(bound)
      if (seg.inSpeech) bound = seg.confirmedUntil
    }
  })

  it('validates its options', () => {
    for (const bad of [
      { hangoverMs: -1 },
      { postPaddingMs: 500, hangoverMs: 100 },
      { minSpeechMs: Number.NaN },
    ]) {
      try {
        new VadSegmenter(160, 16_000, bad)
        expect.unreachable()
      } catch (err) {
        expect(isWsError(err, 'invalid_config')).toBe(true)
      }
    }
  })

  it('detectSpeech runs a VAD over a signal', async () => {
    const audio = new Float32Array(32_000) // long enough for the hangover to end the speech
    for (let i = 4000; i < 10_000; i++) audio[i] = 0.3 * Math.sin(i / 5)
    const { regions } = await detectSpeech(new EnergyVad(), audio, { prePaddingMs: 0, postPaddingMs: 0 })
    expect(regions).toHaveLength(1)
    expect(regions[0]!.start).toBeCloseTo(0.24, 2) // 4000 samples fall in the frame starting at 3840
    expect(regions[0]!.end).toBeCloseTo(0.63, 2)
  })
})
