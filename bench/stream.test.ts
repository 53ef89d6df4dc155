import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

// The benchmark's smoke mode: one configuration on short audio, both modes. It proves the
// harness works and that its numbers are sane; it asserts no speed (the machine is shared).
const BENCH = fileURLToPath(new URL('stream.mjs', import.meta.url))

describe('pnpm bench --smoke', () => {
  it('runs and reports sane numbers', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ws-bench-'))
    try {
      await promisify(execFile)(process.execPath, [BENCH, '--smoke', '--out', out], { maxBuffer: 1 << 24 })
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'))
      const md = readFileSync(join(out, 'latest.md'), 'utf8')
      expect(md).toContain('| whispercpp | prompt | clean |')
      const [v] = report.virtual
      const [r] = report.realtime
      // Short synthetic audio (16 words: one word is 6 points): offline WER 37.5 % measured,
      // streaming finals 56 % (the first utterance has no prompt). Bounds that a broken
      // pipeline (lost audio, a final per frame, no final at all) cannot meet.
      expect(v.werOffline).toBeLessThanOrEqual(50)
      expect(v.werFinals).toBeLessThanOrEqual(v.werOffline + 25)
      expect(Math.abs(r.werFinals - v.werFinals)).toBeLessThanOrEqual(15) // same audio, same cuts
      // The virtual clock counts no inference: a final comes after the VAD's hangover (200 ms)
      // and before the next partial interval (301 ms measured).
      expect(v.finalAfterSpeechP50Ms).toBeGreaterThanOrEqual(200)
      expect(v.finalAfterSpeechP50Ms).toBeLessThanOrEqual(700)
      expect(v.firstPartialP50Ms).toBeGreaterThan(0)
      // In real time, never before the hangover; the upper bound only catches a hang.
      expect(r.finalAfterSpeechP50Ms).toBeGreaterThanOrEqual(200)
      expect(r.finalAfterSpeechP50Ms).toBeLessThan(10_000)
      expect(v.cpuSecondsPerAudioSecond).toBeGreaterThan(0)
      expect(r.serverCpuPerAudioSecond).toBeGreaterThan(0)
      expect(r.serverRssMb).toBeGreaterThan(50)
      expect(r.loadGeneratorCpu).toBeLessThan(1)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 300_000)
})
