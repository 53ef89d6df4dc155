import { describe, expect, it } from 'vitest'
import { isWsError, WsError } from '../errors.js'
import { FakeBackend } from '../testing/fake-backend.js'
import { InferenceScheduler, type InferenceTicket } from './scheduler.js'
import { StreamingSession } from './streaming-session.js'

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('InferenceScheduler', () => {
  it('runs finals before partials and serves sessions in turn', async () => {
    const scheduler = new InferenceScheduler({ concurrency: 1 })
    const [a, b, c] = [scheduler.gate(), scheduler.gate(), scheduler.gate()]
    const order: string[] = []
    const hold = await a.acquire('partial') // occupies the backend
    const track = (name: string, p: Promise<InferenceTicket>) =>
      p.then((t) => {
        order.push(name)
        t.release()
      })
    const done = Promise.all([
      track('a-partial', a.acquire('partial')),
      track('b-partial', b.acquire('partial')),
      track('a-final', a.acquire('final')),
      track('c-final', c.acquire('final')),
      track('b-final', b.acquire('final')),
    ])
    expect(scheduler.stats.queuedFinals).toBe(3)
    hold.release()
    await done
    // Finals first; a was served last (it held the backend), so c (never served) and b go
    // before it; then the partials, b's first because a was served after b.
    expect(order).toEqual(['c-final', 'b-final', 'a-final', 'b-partial', 'a-partial'])
  })

  it('replaces a waiting partial with the newer one of the same session', async () => {
    const scheduler = new InferenceScheduler()
    const gate = scheduler.gate()
    const hold = await scheduler.gate().acquire('final')
    const stale = gate.acquire('partial')
    const fresh = gate.acquire('partial')
    await expect(stale).rejects.toSatisfy((e) => isWsError(e, 'aborted'))
    expect(scheduler.stats.superseded).toBe(1)
    hold.release()
    ;(await fresh).release()
    expect(scheduler.stats.started).toEqual({ partial: 1, final: 1 })
  })

  it('drops a request whose signal aborts while it waits, and frees the slot on release', async () => {
    const scheduler = new InferenceScheduler({ concurrency: 2 })
    const t1 = await scheduler.gate().acquire('final')
    const t2 = await scheduler.gate().acquire('final')
    const abort = new AbortController()
    const waiting = scheduler.gate().acquire('partial', abort.signal)
    abort.abort(new WsError('closed', 'gone'))
    await expect(waiting).rejects.toSatisfy((e) => isWsError(e, 'closed'))
    expect(scheduler.stats.queuedPartials).toBe(0)
    t1.release()
    t1.release() // idempotent
    expect(scheduler.stats.running).toBe(1)
    t2.release()
    expect(scheduler.stats.running).toBe(0)
  })

  it('admits sessions while the finals of one more would fit the load bound', () => {
    const scheduler = new InferenceScheduler({ maxLoad: 0.8 })
    expect(scheduler.canAdmit(10)).toBe(true) // nothing measured yet
    scheduler.observeFinal(0.5, 5) // rtf 0.1
    expect(scheduler.canAdmit(7)).toBe(true) // 8 × 0.1 ≤ 0.8
    expect(scheduler.canAdmit(8)).toBe(false)
    scheduler.observeFinal(2, 5) // rtf 0.4 → smoothed 0.16
    expect(scheduler.finalRtf).toBeCloseTo(0.16)
    expect(scheduler.canAdmit(3)).toBe(true)
    expect(scheduler.canAdmit(5)).toBe(false)
  })

  it('admits the first session whatever the estimate says', () => {
    const scheduler = new InferenceScheduler({ maxLoad: 0.8 })
    scheduler.observeFinal(3.74, 1) // a slow burst: 3.74 s per audio second
    expect(scheduler.canAdmit(1)).toBe(false)
    expect(scheduler.canAdmit(0)).toBe(true)
  })

  it('lets an estimate no final refreshed age out, and then measures afresh', () => {
    let now = 0
    const scheduler = new InferenceScheduler({ maxLoad: 0.8, rtfMaxAgeMs: 30_000, now: () => now })
    scheduler.observeFinal(2.46, 1) // inflated (a slow start)
    expect(scheduler.canAdmit(1)).toBe(false)
    now = 10_000
    expect(scheduler.retryAfterMs()).toBe(20_000)
    now = 29_000
    expect(scheduler.canAdmit(1)).toBe(false) // still fresh
    expect(scheduler.retryAfterMs()).toBe(1000) // never sooner than a second
    now = 30_001
    expect(scheduler.finalRtf).toBeUndefined()
    expect(scheduler.canAdmit(3)).toBe(true)
    expect(scheduler.retryAfterMs()).toBe(0)
    // The next final is a fresh measurement, not averaged with the stale one.
    scheduler.observeFinal(0.1, 1)
    expect(scheduler.finalRtf).toBeCloseTo(0.1)
    expect(scheduler.stats.finalRtf).toBeCloseTo(0.1)
  })

  it('validates its options', () => {
    expect(() => new InferenceScheduler({ rtfMaxAgeMs: 0 })).toThrow(/rtfMaxAgeMs/)
    expect(() => new InferenceScheduler({ concurrency: 0 })).toThrow(/concurrency/)
    expect(() => new InferenceScheduler({ maxLoad: 0 })).toThrow(/maxLoad/)
  })
})

describe('StreamingSession with a gate', () => {
  it('transcribes every sample once and reads partial audio when its turn comes', async () => {
    const scheduler = new InferenceScheduler()
    const backend = new FakeBackend({ delayMs: 5 })
    await backend.loadModel('fake')
    const sessions = [0, 1].map(
      () =>
        new StreamingSession({ backend, strategy: 'prompt', gate: scheduler.gate(), partialIntervalMs: 100 }),
    )
    const collect = sessions.map(async (s) => {
      const events = []
      for await (const e of s) events.push(e)
      return events
    })
    for (let i = 0; i < 20; i++) {
      for (const s of sessions) s.pushAudio(new Float32Array(1600).fill(0.1))
      await flush()
    }
    await Promise.all(sessions.map((s) => s.end()))
    const results = await Promise.all(collect)
    for (const events of results) {
      const finals = events.filter((e) => e.type === 'final')
      expect(finals).toHaveLength(1)
      expect(finals[0]!.audioEnd).toBeCloseTo(2)
      const partials = events.filter((e) => e.type === 'partial')
      expect(partials.length).toBeGreaterThan(0)
      for (const p of partials) expect(p.lagSeconds).toBeGreaterThanOrEqual(0)
    }
    expect(scheduler.stats.started.final).toBe(2)
    expect(scheduler.stats.running).toBe(0)
    expect(scheduler.finalRtf).toBeGreaterThan(0)
    expect(backend.maxConcurrency).toBe(1) // two sessions, one request at a time
  })
})
