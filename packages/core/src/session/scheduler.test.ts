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
    expect(scheduler.stats.started).toEqual({ partial: 1, final: 1, revision: 0 })
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
    let now = 0
    const scheduler = new InferenceScheduler({ maxLoad: 0.8, now: () => now })
    expect(scheduler.canAdmit(10)).toBe(true) // nothing measured yet
    scheduler.observeFinal(0.5, 5) // 0.1 s per audio second
    expect(scheduler.canAdmit(7)).toBe(true) // 8 × 0.1 ≤ 0.8
    expect(scheduler.canAdmit(8)).toBe(false)
    now = 1500
    scheduler.observeFinal(2, 5) // the window: 2.5 s for 10 s of audio
    expect(scheduler.finalRtf).toBeCloseTo(0.25)
    expect(scheduler.canAdmit(2)).toBe(true)
    expect(scheduler.canAdmit(3)).toBe(false)
  })

  it('measures per second of audio sent, so short utterances in a stream do not look like load', async () => {
    let now = 0
    const scheduler = new InferenceScheduler({ maxLoad: 0.8, now: () => now })
    // Two sessions of 0.5 s commands with pauses: each final takes 0.3 s of the backend (0.6
    // per second of utterance, its fixed overhead included), one every 2 s of each stream.
    const gates = [scheduler.gate(), scheduler.gate()]
    for (let second = 0; second < 20; second++) {
      now = second * 1000
      for (const gate of gates) {
        gate.observeAudio!(1)
        if (second % 2 === 0) continue
        const ticket = await gate.acquire('final')
        now += 300
        ticket.release(0.5)
      }
    }
    // 20 finals × 0.3 s for 40 s of audio: 0.15 s per second, where per final it is 0.6 (and
    // two sessions would not fit at all: 2 × 0.6 > 0.8).
    expect(scheduler.finalRtf).toBeCloseTo(0.15)
    expect(scheduler.canAdmit(2)).toBe(true) // 3 × 0.15 ≤ 0.8
    expect(scheduler.canAdmit(4)).toBe(true) // 5 × 0.15 ≤ 0.8
    expect(scheduler.canAdmit(5)).toBe(false) // 6 × 0.15 > 0.8
    // A REST job's ticket (no audio seconds: nobody streamed it) is not a stream's cost.
    const rest = await gates[0]!.acquire('final')
    now += 5000
    rest.release()
    expect(scheduler.finalRtf).toBeCloseTo(0.15)
  })

  it('admits the first session whatever the estimate says', () => {
    const scheduler = new InferenceScheduler({ maxLoad: 0.8 })
    scheduler.observeFinal(7.48, 2) // a slow burst: 3.74 s per audio second
    expect(scheduler.canAdmit(1)).toBe(false)
    expect(scheduler.canAdmit(0)).toBe(true)
  })

  it('lets the window slide: a refusal says when the cost that refused will have aged out', () => {
    let now = 0
    const scheduler = new InferenceScheduler({ maxLoad: 0.8, loadWindowMs: 30_000, now: () => now })
    scheduler.observeFinal(4.92, 2) // inflated (a slow start)
    expect(scheduler.canAdmit(1)).toBe(false)
    now = 10_000
    expect(scheduler.retryAfterMs(1)).toBe(21_000) // the bucket [0, 1 s) leaves at 31 s
    now = 20_500
    scheduler.observeFinal(0.1, 10) // cheap audio since: still over the bound with the old cost
    expect(scheduler.canAdmit(1)).toBe(false)
    expect(scheduler.retryAfterMs(1)).toBe(10_500)
    now = 30_500
    expect(scheduler.retryAfterMs(1)).toBe(1000) // never sooner than a second
    now = 31_001
    expect(scheduler.finalRtf).toBeCloseTo(0.01)
    expect(scheduler.canAdmit(3)).toBe(true)
    expect(scheduler.retryAfterMs(3)).toBe(0)
    now = 100_000
    expect(scheduler.finalRtf).toBeUndefined() // nobody streamed for a window
    expect(scheduler.stats.finalRtf).toBeUndefined()
  })

  it('serves real-time sessions before bulk work and sessions sending ahead of real time', async () => {
    let now = 0
    const scheduler = new InferenceScheduler({ now: () => now })
    const live = scheduler.gate()
    const flood = scheduler.gate() // 60 s of audio in its first second: ahead
    const rest = scheduler.gate({ bulk: true })
    live.observeAudio!(1)
    flood.observeAudio!(60)
    now = 1000
    const running = await live.acquire('final')
    const order: string[] = []
    const take = (name: string, gate: typeof live, kind: 'final' | 'partial') =>
      gate.acquire(kind).then((t) => {
        order.push(name)
        t.release()
      })
    const all = Promise.all([
      take('rest final', rest, 'final'),
      take('flood final', flood, 'final'),
      take('flood partial', flood, 'partial'),
      take('live partial', live, 'partial'),
      take('live final', live, 'final'),
    ])
    running.release()
    await all
    expect(order[0]).toBe('live final')
    expect(order[1]).toBe('live partial')
    expect(order.slice(2, 4).sort()).toEqual(['flood final', 'rest final'])
    expect(order[4]).toBe('flood partial')
    // Once the wall clock caught up with what it sent, the flood is a real-time session again.
    now = 58_000
    const held = await rest.acquire('final')
    const again: string[] = []
    const p = Promise.all([
      rest.acquire('final').then((t) => {
        again.push('rest')
        t.release()
      }),
      flood.acquire('final').then((t) => {
        again.push('flood')
        t.release()
      }),
    ])
    held.release()
    await p
    expect(again).toEqual(['flood', 'rest'])
  })

  it('marks a final busy when it waited for another final or runs beside one', async () => {
    const scheduler = new InferenceScheduler({ concurrency: 1 })
    const [a, b, c] = [scheduler.gate(), scheduler.gate(), scheduler.gate()]
    // Alone, a final is never busy, nor is one that waited only for a partial.
    const alone = await a.acquire('final')
    expect(alone.busy).toBe(false)
    alone.release()
    const partial = await b.acquire('partial')
    expect(partial.busy).toBe(false)
    const afterPartial = a.acquire('final')
    partial.release()
    const p = await afterPartial
    expect(p.busy).toBe(false)
    // Three sessions end utterances together: the first runs while the others wait (c, never
    // served, goes before b).
    const b1 = b.acquire('final')
    const c1 = c.acquire('final')
    p.release()
    const tc = await c1
    expect(tc.busy).toBe(true) // waited for a's final
    tc.release()
    const tb = await b1
    expect(tb.busy).toBe(true)
    tb.release()
    // The first of a queue (behind a partial) is not: it decodes as a lone final would.
    const [d, e] = [scheduler.gate(), scheduler.gate()]
    const held = await a.acquire('partial')
    const first = d.acquire('final')
    const second = e.acquire('final')
    held.release()
    const t1 = await first
    expect(t1.busy).toBe(false)
    t1.release()
    expect((await second).busy).toBe(true)
    ;(await second).release()
    expect(scheduler.stats.busyFinals).toBe(3)
    // With room for two at once, a final running beside another is busy; a lone one is not.
    const two = new InferenceScheduler({ concurrency: 2 })
    const x = await two.gate().acquire('final')
    const y = await two.gate().acquire('final')
    expect([x.busy, y.busy]).toEqual([false, true])
    x.release()
    y.release()
    expect((await two.gate().acquire('final')).busy).toBe(false)
  })

  it('marks a partial busy when it runs beside other work or finals wait, and not otherwise', async () => {
    const one = new InferenceScheduler({ concurrency: 1 })
    const [a, b] = [one.gate(), one.gate()]
    const lone = await a.acquire('partial')
    expect(lone.busy).toBe(false)
    // Behind it: a final and a partial of another session. The final goes first; the partial
    // then runs alone.
    const final = b.acquire('final')
    const partial = a.acquire('partial')
    lone.release()
    const f = await final
    f.release()
    expect((await partial).busy).toBe(false)
    ;(await partial).release()
    // A partial that runs beside a final (room for two): busy.
    const two = new InferenceScheduler({ concurrency: 2 })
    const [c, d, e] = [two.gate(), two.gate(), two.gate()]
    const running = await c.acquire('final')
    const beside = await d.acquire('partial')
    expect(beside.busy).toBe(true)
    const waiting = e.acquire('final')
    beside.release()
    running.release()
    const late = await waiting
    expect(late.busy).toBe(true) // it waited for c's final
    late.release()
    expect(two.stats.busyFinals).toBe(1) // partials are not counted
  })

  it('does not count a session’s own running final (a speculation), and never marks bulk work busy', async () => {
    const scheduler = new InferenceScheduler({ concurrency: 1 })
    const [live, rest] = [scheduler.gate(), scheduler.gate({ bulk: true })]
    const speculation = await live.acquire('final')
    const own = live.acquire('final')
    speculation.release()
    expect((await own).busy).toBe(false)
    ;(await own).release()
    // A live final that waited for a REST window is late: busy. The REST window itself never is.
    const window = await rest.acquire('final')
    expect(window.busy).toBe(false)
    const behindRest = live.acquire('final')
    const nextWindow = rest.acquire('final')
    window.release()
    const t = await behindRest
    expect(t.busy).toBe(true)
    t.release()
    expect((await nextWindow).busy).toBe(false)
    ;(await nextWindow).release()
    expect(scheduler.stats.busyFinals).toBe(1)
  })

  it('validates its options', () => {
    expect(() => new InferenceScheduler({ loadWindowMs: 0 })).toThrow(/loadWindowMs/)
    expect(() => new InferenceScheduler({ concurrency: 0 })).toThrow(/concurrency/)
    expect(() => new InferenceScheduler({ aheadSlackS: -1 })).toThrow(/aheadSlackS/)
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

  it('asks the backend for busy finals only while finals of sessions contend', async () => {
    const run = async (count: number) => {
      const scheduler = new InferenceScheduler()
      const backend = new FakeBackend({ delayMs: 20 })
      await backend.loadModel('fake')
      const sessions = Array.from(
        { length: count },
        () =>
          new StreamingSession({ backend, strategy: 'prompt', gate: scheduler.gate(), partialIntervalMs: 0 }),
      )
      const drained = sessions.map(async (s) => {
        for await (const _ of s);
      })
      for (const s of sessions) s.pushAudio(new Float32Array(16_000).fill(0.1))
      await Promise.all(sessions.map((s) => s.end()))
      await Promise.all(drained)
      return backend.calls.filter((c) => c.options.live).map((c) => c.options.busy === true)
    }
    expect(await run(1)).toEqual([false])
    // Three utterances end together: the first final runs on the engine's full path, the two
    // that waited for it are busy.
    expect(await run(3)).toEqual([false, true, true])
  })
})
