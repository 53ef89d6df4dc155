import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readWavMono } from '@ws/core'
import { describe, expect, it } from 'vitest'
import {
  licenceOf,
  type NonSpeechClip,
  nonSpeechDir,
  provisionNonSpeech,
  readSoundCatalogue,
} from '../scripts/non-speech.mjs'

/** A catalogue as OpenTTD writes one: (offset, size) pairs, then each entry's name and WAV. */
function catalogue(entries: { name: string; wav: Uint8Array }[]): Uint8Array {
  const table = entries.length * 8
  const bodies = entries.map((e) => {
    const name = Buffer.from(`${e.name}\0`, 'latin1')
    return Buffer.concat([Buffer.from([name.length]), name, e.wav])
  })
  const out = Buffer.alloc(table + bodies.reduce((n, b) => n + b.length, 0))
  let at = table
  bodies.forEach((b, i) => {
    out.writeUInt32LE(at, i * 8)
    out.writeUInt32LE(b.length, i * 8 + 4)
    b.copy(out, at)
    at += b.length
  })
  return out
}

describe('the non-speech set', () => {
  it('reads a sound catalogue and the licence each entry names', () => {
    const wav = Buffer.from('RIFF\x10\0\0\0WAVEfmt ', 'latin1')
    const sounds = readSoundCatalogue(
      catalogue([
        { name: '"Wind". By A. License: Creative Commons Attribution 3.0 Unported.', wav },
        { name: '"Cow". By B. License: Creative Commons Zero 1.0.', wav },
        { name: 'no sound here', wav: Buffer.from('ABCD') },
      ]),
    )
    expect(sounds.map((s) => s.index)).toEqual([0, 1, 2])
    expect(Buffer.from(sounds[0]!.wav!).toString('latin1', 0, 4)).toBe('RIFF')
    expect(sounds[2]!.wav).toBeUndefined()
    expect(licenceOf(sounds[0]!.name)).toBe('CC-BY-3.0')
    expect(licenceOf(sounds[1]!.name)).toBe('CC0-1.0')
    expect(licenceOf('"Helicopter". License: Creative Commons Attribution-ShareAlike 3.0 Unported.')).toBe(
      'CC-BY-SA-3.0',
    )
    expect(licenceOf('no licence')).toBeUndefined()
  })

  it('holds real recordings of every kind the issue names, each with its licence, beside sox’s', () => {
    // The setup builds it; here it is only verified (sha256 of the packages, every file there).
    const manifest: NonSpeechClip[] = provisionNonSpeech({ check: true, log: () => {} })
    const real = manifest.filter((c) => !c.synthetic)
    expect(new Set(real.map((c) => c.category))).toEqual(
      new Set([
        'music',
        'keyboard',
        'breathing',
        'crowd',
        'wind',
        'traffic',
        'machinery',
        'animals',
        'beeps',
      ]),
    )
    expect(new Set(manifest.filter((c) => c.synthetic).map((c) => c.category))).toEqual(
      new Set(['silence', 'noise', 'hum']),
    )
    for (const c of real) expect(c.license, c.name).toMatch(/^(GPL-2|CC0-1\.0|CC-BY-3\.0|CC-BY-SA-3\.0)$/)
    for (const c of manifest) {
      const { sampleRate, samples } = readWavMono(readFileSync(join(nonSpeechDir(), `${c.name}.wav`)))
      expect(sampleRate).toBe(16_000)
      expect(samples.length / sampleRate).toBeCloseTo(c.durationSeconds, 1)
      expect(c.durationSeconds, c.name).toBeGreaterThan(1)
      // Not silence, except the clip that is.
      const peak = samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
      if (c.name === 'silence') expect(peak).toBe(0)
      else expect(peak, c.name).toBeGreaterThan(0.001)
    }
  })
})
