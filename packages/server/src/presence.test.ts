import { noopLogger } from '@ws/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ServerMetrics } from './metrics.js'
import { Presence } from './presence.js'
import type { SessionSlots } from './slots.js'

/** A presence over a slot pool of one, counting what it reports (timers are vitest's). */
function presence() {
  const seen = { idle: 0, quiet: 0, held: 0 }
  const slots = {
    take: () => (seen.held++ === 0 ? undefined : { reason: 'full' }),
    give: () => {
      seen.held--
    },
  } as unknown as SessionSlots
  const metrics = { refusals: { inc: () => {} } } as unknown as ServerMetrics
  const p = new Presence({
    options: { idleTimeoutS: 60, noAudioTimeoutS: 10 },
    slots,
    metrics,
    logger: noopLogger,
    onIdle: () => seen.idle++,
    onQuiet: () => seen.quiet++,
  })
  return { p, seen }
}

describe('Presence', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('gives the slot back after noAudioTimeoutS without audio, then closes an idle socket', () => {
    const { p, seen } = presence()
    p.touch()
    expect(p.audio()).toBeUndefined()
    vi.advanceTimersByTime(9_999)
    expect(seen.quiet).toBe(0)
    vi.advanceTimersByTime(1)
    expect([seen.quiet, seen.held, p.holding]).toEqual([1, 0, false])
    vi.advanceTimersByTime(10_000)
    expect(seen.idle).toBe(1)
  })

  it('runs no timer while the server does not read (backpressure), and starts them again from the resumption', () => {
    const { p, seen } = presence()
    p.touch()
    p.audio()
    p.paused()
    // The engine is far behind: the client's audio waits unread in the socket for minutes.
    vi.advanceTimersByTime(180_000)
    expect([seen.quiet, seen.idle, p.holding]).toEqual([0, 0, true])
    p.resumed()
    vi.advanceTimersByTime(9_999)
    expect(seen.quiet).toBe(0)
    p.audio()
    vi.advanceTimersByTime(9_999)
    expect(seen.quiet).toBe(0)
    vi.advanceTimersByTime(1)
    expect(seen.quiet).toBe(1)
    p.resumed() // not paused: nothing changes
    p.stop()
    vi.advanceTimersByTime(120_000)
    expect(seen.idle).toBe(0)
  })
})
