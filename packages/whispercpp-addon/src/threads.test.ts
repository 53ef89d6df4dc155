import { describe, expect, it } from 'vitest'
import { WhisperAddonError } from './errors.js'
import { ThreadGovernor } from './threads.js'

describe('ThreadGovernor', () => {
  it('gives the next call a thread fewer after a starved one, down to one', () => {
    const g = new ThreadGovernor()
    expect(g.threads(4)).toBe(4)
    g.record(4, 1000, 4 * 1000 * 0.5) // half the CPU time four threads could have had
    expect(g.threads(4)).toBe(3)
    g.record(3, 1000, 3 * 1000 * 0.6)
    g.record(2, 1000, 2 * 1000 * 0.6)
    expect(g.threads(4)).toBe(1)
    g.record(1, 1000, 500) // one thread is never cut
    expect(g.threads(4)).toBe(1)
  })

  it('tries one more thread after enough calls at full use, and lifts the cap once it no longer limits', () => {
    const g = new ThreadGovernor({ probeAfterCalls: 3 })
    g.record(2, 1000, 1000) // starved
    expect(g.threads(2)).toBe(1)
    for (let i = 0; i < 2; i++) g.record(1, 1000, 990)
    expect(g.threads(2)).toBe(1)
    g.record(1, 1000, 990)
    expect(g.threads(2)).toBe(2) // probing
    g.record(2, 1000, 1200) // starved again: back to one
    expect(g.threads(2)).toBe(1)
    for (let i = 0; i < 3; i++) g.record(1, 1000, 1000)
    expect(g.threads(8)).toBe(2)
    g.record(2, 1000, 1950) // the CPU is free again: no cut
    expect(g.threads(8)).toBe(2)
    g.record(1, 1000, 990) // a call that asked for fewer threads than the cap: cap lifted
    expect(g.threads(8)).toBe(8)
  })

  it('ignores calls too short to judge and never exceeds the request', () => {
    const g = new ThreadGovernor()
    g.record(2, 10, 1)
    expect(g.threads(2)).toBe(2)
    expect(g.threads(1)).toBe(1)
    for (const bad of [{ minEfficiency: 1.5 }, { probeAfterCalls: 0 }, { minWallMs: -1 }]) {
      expect(() => new ThreadGovernor(bad)).toThrow(WhisperAddonError)
    }
    // An option passed as undefined takes its default.
    expect(new ThreadGovernor({ minWallMs: undefined }).options.minWallMs).toBe(50)
  })
})
