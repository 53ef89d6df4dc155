import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { resample } from '../audio/resample.js'
import { readWavMono } from '../audio/wav.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/** One entry of a fixture directory's `manifest.json`. */
export interface SpeechFixtureInfo {
  name: string
  language: string
  text: string
  durationSeconds: number
  /** Where speech starts and ends in the file, in seconds. */
  speechStart: number
  speechEnd: number
  voice?: string
}

export interface LoadedSpeechFixture extends SpeechFixtureInfo {
  /** 16 kHz mono. */
  audio: Float32Array
}

/**
 * Loads speech fixtures from a directory holding `manifest.json` (a list of
 * {@link SpeechFixtureInfo}) and `<name>.wav` files, resampled to 16 kHz.
 */
export function loadSpeechFixtures(
  dir: string,
  filter: (info: SpeechFixtureInfo) => boolean = () => true,
): LoadedSpeechFixture[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SpeechFixtureInfo[]
  return manifest.filter(filter).map((info) => {
    const wav = readWavMono(readFileSync(join(dir, `${info.name}.wav`)))
    const audio = wav.sampleRate === WHISPER_SAMPLE_RATE ? wav.samples : resample(wav.samples, wav.sampleRate)
    return { ...info, audio }
  })
}
