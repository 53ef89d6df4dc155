import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

// The soak and abuse run, short: one minute of the mix `pnpm bench:soak` runs for twenty,
// against the server on its defaults (a real process, whisper.cpp tiny.en, real sockets).
// It asserts what must hold whatever the machine's speed: nothing lost, every slot and
// connection back, each abuser closed the documented way, memory not growing without bound.
const SOAK = fileURLToPath(new URL('soak.mjs', import.meta.url))

describe('soak and abuse (one minute)', () => {
  it('releases everything, loses nothing, and closes each abuser as documented', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ws-soak-'))
    try {
      await promisify(execFile)(process.execPath, [SOAK, '--minutes', '1', '--live', '1', '--out', out], {
        maxBuffer: 1 << 24,
      }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`soak failed: ${err.stdout ?? ''}${(err.stderr ?? '').slice(-2000)}`)
      })
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'))
      expect(report.lost).toEqual([])
      expect(report.counts.liveSessions).toBeGreaterThan(0)
      expect(report.latencies.length).toBeGreaterThan(0)
      expect(report.after).toMatchObject({ sessions: 0, connections: 0, closing: 0 })
      expect(report.counts.vanished).toBeGreaterThan(3)
      // The garbage flooder: 1008 after maxInvalidMessages; silent sockets: idle_timeout (1000).
      expect(new Set(report.counts.flooderClosed)).toEqual(new Set([1008]))
      expect(new Set(report.counts.silentClosed)).toEqual(new Set([1000]))
      expect(report.counts.squattersOpenAtEnd).toBe(6)
      // REST: answered, refused over the limits, or left by its client; never a 5xx.
      for (const status of Object.keys(report.counts.rest))
        expect(['200', '413', '429', 'left']).toContain(status)
      for (const [target, n] of Object.entries(report.counts.malformed)) {
        expect(n).toBeGreaterThan(0)
        expect(target).toMatch(/→ (400|404)$/)
      }
      // Memory: the last sample within 150 MB of the first (a leak per client would pass it).
      const rss = report.samples.map((s: { rssMb: number }) => s.rssMb)
      expect(rss.at(-1) - rss[0]).toBeLessThan(150)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 240_000)
})
