/** A clip of the non-speech set (manifest.json). */
export interface NonSpeechClip {
  name: string
  category: string
  source: string
  license: string
  synthetic: boolean
  durationSeconds: number
}
export function nonSpeechDir(env?: NodeJS.ProcessEnv): string
export function readSoundCatalogue(
  bytes: Uint8Array,
): { index: number; name: string; wav: Uint8Array | undefined }[]
export function licenceOf(name: string): string | undefined
export function provisionNonSpeech(options?: {
  env?: NodeJS.ProcessEnv
  log?: (line: string) => void
  check?: boolean
}): NonSpeechClip[]
