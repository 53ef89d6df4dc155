import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { type LoadedSpeechFixture, loadSpeechFixtures, type SpeechFixtureInfo } from './fixtures.js'

/**
 * The corpora of real human speech that `node scripts/real-speech.mjs` builds in the cache
 * (fixtures/README.md, "Real speech"):
 * - `real-en`, `real-es`: telephone prompts read by one person (Asterisk), 16 kHz;
 * - `real-en-8k`, `real-es-8k`: the same clips at their recorded 8 kHz (telephone, G.711);
 * - `real-nl`: Dutch voice actors (Fish Fillets NG), 16 kHz;
 * - `real-en-long`, `real-es-long`, `real-nl-long`: a 30 s and a 2 min stream each, the clips'
 *   speech one after another with pauses of 0.3 to 2.5 s, with `segments`.
 */
export const REAL_SPEECH_CORPORA = [
  'real-en',
  'real-en-8k',
  'real-es',
  'real-es-8k',
  'real-nl',
  'real-en-long',
  'real-es-long',
  'real-nl-long',
] as const
export type RealSpeechCorpus = (typeof REAL_SPEECH_CORPORA)[number]

/** One clip's place in a long-form stream, in seconds of the stream. */
export interface RealSpeechSegment {
  /** The clip (its name in the language's clip corpus). */
  name: string
  start: number
  end: number
  text: string
}

/** A manifest entry of a real-speech corpus. */
export interface RealSpeechInfo extends SpeechFixtureInfo {
  /** The package and file the clip comes from (clip corpora). */
  source?: string
  /** The game's English line the Dutch one translates (`real-nl`). */
  english?: string
  /** Each clip in a stream (the `-long` corpora). */
  segments?: RealSpeechSegment[]
}

export type LoadedRealSpeech = LoadedSpeechFixture & RealSpeechInfo

/** The command that builds the corpora. */
export const REAL_SPEECH_SETUP =
  'node scripts/real-speech.mjs (or WS_SETUP_REAL_SPEECH=1 bash scripts/setup.sh)'

/** Where a corpus lives: `<cache>/real-speech/<corpus>`, the cache as in @ws/models' `cacheDir`. */
export function realSpeechDir(corpus: RealSpeechCorpus, env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.WS_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'whisper-stream')
  return join(cache, 'real-speech', corpus)
}

/** Whether the corpus has been built (its manifest is there). */
export function hasRealSpeech(corpus: RealSpeechCorpus, env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(join(realSpeechDir(corpus, env), 'manifest.json'))
}

/**
 * Loads a real-speech corpus (16 kHz mono; the `-8k` ones resampled), like
 * {@link loadSpeechFixtures}. Throws, naming the setup command, when it has not been built.
 */
export function realSpeechFixtures(
  corpus: RealSpeechCorpus,
  filter: (info: RealSpeechInfo) => boolean = () => true,
  env: NodeJS.ProcessEnv = process.env,
): LoadedRealSpeech[] {
  const dir = realSpeechDir(corpus, env)
  if (!hasRealSpeech(corpus, env))
    throw new Error(`The real-speech corpus ${corpus} is not in ${dir}: build it with ${REAL_SPEECH_SETUP}`)
  return loadSpeechFixtures(dir, filter) as LoadedRealSpeech[]
}
