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
      for (const row of [v, r]) {
        expect(row.werFinals).toBeGreaterThanOrEqual(0)
        expect(row.werFinals).toBeLessThanOrEqual(Math.max(60, v.werOffline + 20))
        expect(row.firstPartialP50Ms).toBeGreaterThan(0)
        expect(row.finalAfterSpeechP50Ms).toBeGreaterThan(100) // at least the VAD's decision
        expect(row.finalAfterSpeechP50Ms).toBeLessThan(10_000)
      }
      expect(v.cpuSecondsPerAudioSecond).toBeGreaterThan(0)
      expect(r.serverCpuPerAudioSecond).toBeGreaterThan(0)
      expect(r.serverRssMb).toBeGreaterThan(50)
      expect(r.loadGeneratorCpu).toBeLessThan(1)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 300_000)
})
