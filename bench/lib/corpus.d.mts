/** A stream the bench sends: audio, its utterances' speech bounds (s) and their texts. */
export interface BenchCorpus {
  name?: string
  audio: Float32Array
  utterances: { start: number; end: number }[]
  texts: string[]
  reference: string
}
export const SR: number
export const FIXTURES: string
export function harvardFixtures(dir?: string): unknown[]
export function compose(fixtures: unknown[], gaps: number[]): BenchCorpus
export function corpus(harvard: unknown[], sentences: number, offset?: number): BenchCorpus
export function longCorpus(minutes: number, harvard?: unknown[], dir?: string): BenchCorpus
export function realStreams(corpusName?: string): BenchCorpus[]
export function withNoise(c: BenchCorpus, noise: string): Float32Array
