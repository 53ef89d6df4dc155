import { readWavMono, writeWav } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { AudioStore } from './audio-store.js'
import { codeOf } from './test-support.js'
import { EspeakSynthesizer, fixStreamedWav } from './tts.js'

describe('EspeakSynthesizer', () => {
  it('speaks a sentence as a WAV whose length fits the text, and text never reaches its command line', async () => {
    const tts = new EspeakSynthesizer()
    const short = readWavMono(await tts.synthesize('Hello.'))
    const long = readWavMono(await tts.synthesize('The birch canoe slid on the smooth planks; -v de --help'))
    expect(short.sampleRate).toBe(22_050)
    expect(short.samples.length / short.sampleRate).toBeGreaterThan(0.3)
    expect(long.samples.length).toBeGreaterThan(3 * short.samples.length)
  })

  it('fails typed: a missing program, an abort, a bad option', async () => {
    expect(await codeOf(new EspeakSynthesizer({ command: 'espeak-ng-not-installed' }).synthesize('x'))).toBe(
      'tts_failed',
    )
    const abort = new AbortController()
    const speaking = new EspeakSynthesizer().synthesize(
      'A sentence long enough to be stopped while it is spoken.'.repeat(20),
      {
        signal: abort.signal,
      },
    )
    abort.abort()
    expect(await codeOf(speaking)).toBe('aborted')
    expect(() => new EspeakSynthesizer({ voice: 'en; rm -rf' })).toThrow(/voice/)
    expect(() => new EspeakSynthesizer({ wordsPerMinute: 5 })).toThrow(/wordsPerMinute/)
  })
})

describe('fixStreamedWav', () => {
  it('sets the sizes a pipe could not, and refuses what is not a WAV', () => {
    const wav = Buffer.from(writeWav(new Float32Array(1000).fill(0.1), 16_000))
    wav.writeUInt32LE(0xffffffff, 4)
    wav.writeUInt32LE(0xffffffff, 40)
    const fixed = fixStreamedWav(wav)
    expect(readWavMono(fixed).samples.length).toBe(1000)
    expect(() => fixStreamedWav(new Uint8Array(50))).toThrow(/RIFF/)
  })
})

describe('AudioStore', () => {
  it('keeps files by id up to its size, the least recently used out first', () => {
    const store = new AudioStore({ maxBytes: 30 })
    const file = (n: number) => new Uint8Array(10).fill(n)
    store.put('a', file(1))
    store.put('b', file(2))
    store.put('c', file(3))
    expect(store.get('a')).toEqual(file(1)) // a is now the most recent
    store.put('d', file(4))
    expect(store.has('b')).toBe(false)
    expect(['a', 'c', 'd'].every((k) => store.has(k))).toBe(true)
    expect(store.bytes).toBe(30)
    expect(AudioStore.key('v', 'hello')).toMatch(/^[0-9a-f]{32}$/)
    expect(AudioStore.key('v', 'hello')).not.toBe(AudioStore.key('w', 'hello'))
  })
})
