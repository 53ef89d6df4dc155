import type { BenchCorpus } from './corpus.mjs'

type Arms<T> = { A: T; B: T }
export interface CompareResult {
  backend: string
  A: string
  B: string
  inputs: { name: string; audioSeconds: number }[]
  finalLatencyP50Ms: Arms<number | null>
  finalLatencyP95Ms: Arms<number | null>
  finalLatencyRatio: { ratio: number; low: number; high: number }
  serverCpuPerAudioSecond: Arms<number>
  werFinals: Arms<number>
  werRevised: Arms<number>
}
export const DEFAULT_COMPARE: string
export function parseCompare(spec: string): [string[], string[]]
export function compareRun(
  backend: string,
  spec: string,
  inputs: BenchCorpus[],
  serverOptions?: { reviseMs?: number | string; serverLog?: string },
): Promise<CompareResult>
