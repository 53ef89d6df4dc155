import { describe, expect, it } from 'vitest'
import type { TranscribeOptions } from '../backend.js'
import { abortError, isWsError } from '../errors.js'
import { FakeBackend } from '../testing/fake-backend.js'
import { InferenceScheduler, type InferenceTicket } from './scheduler.js'
import { StreamingSession } from './streaming-session.js'
import { SENTENCES, voice } from './test-support.js'

/** The fake backend, its revisions (background calls) slow: 300 ms, which an abort ends. */
class SlowRevisions extends FakeBackend {
  override async transcribe(audio: Float32Array, rate: number, options: TranscribeOptions = {}) {
    if (options.background) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 300)
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(abortError(options.signal!))
        })
      })
    }
    return super.transcribe(audio, rate, options)
  }
}

// Revisions as the scheduler's third kind, turns taken back for finals, and the books by kind.
describe('InferenceScheduler: revisions, preemption and where the time went', () => {
  it('serves revisions after finals and partials, one waiting per session', async () => {
    const scheduler = new InferenceScheduler()
    const [a, b] = [scheduler.gate(), scheduler.gate()]
    const hold = await a.acquire('final')
    const order: string[] = []
    const track = (name: string, p: Promise<InferenceTicket>) =>
      p.then((t) => {
        order.push(name)
        t.release()
      })
    const stale = b.acquire('revision')
    const done = Promise.all([
      track('b-revision', b.acquire('revision')),
      track('a-partial', a.acquire('partial')),
      track('b-final', b.acquire('final')),
    ])
    await expect(stale).rejects.toSatisfy((e) => isWsError(e, 'aborted')) // replaced by the newer
    expect(scheduler.stats.queuedRevisions).toBe(1)
    hold.release()
    await done
    expect(order).toEqual(['b-final', 'a-partial', 'b-revision'])
  })

  it('a final waiting for a full engine takes back a revision’s turn first, then the newest partial’s', async () => {
    const scheduler = new InferenceScheduler({ concurrency: 2 })
    const partial = await scheduler.gate().acquire('partial')
    const revision = await scheduler.gate().acquire('revision')
    expect(revision.preempted?.aborted).toBe(false)
    const first = scheduler.gate().acquire('final')
    expect(revision.preempted?.aborted).toBe(true)
    expect(partial.preempted?.aborted).toBe(false)
    // One final waits and one turn is being given back: nothing more is asked.
    expect(scheduler.stats.byKind.revision.preempted).toBe(1)
    revision.release()
    const f1 = await first
    expect(f1.preempted).toBeUndefined() // a final's turn is never taken back
    const second = scheduler.gate().acquire('final')
    expect(partial.preempted?.aborted).toBe(true)
    expect((partial.preempted!.reason as Error).message).toMatch(/final took this partial's turn/)
    partial.release()
    ;(await second).release()
    f1.release()
    expect(scheduler.stats.byKind.partial.preempted).toBe(1)
    expect(scheduler.stats.running).toBe(0)
  })

  it('serves a final someone waits for before one computed ahead, whoever asked first', async () => {
    const scheduler = new InferenceScheduler()
    const [a, b] = [scheduler.gate(), scheduler.gate()]
    const hold = await scheduler.gate().acquire('final')
    const order: string[] = []
    const track = (name: string, p: Promise<InferenceTicket>) =>
      p.then((t) => {
        order.push(name)
        t.release()
      })
    const done = Promise.all([
      track('a-ahead', a.acquire('final', undefined, { ahead: true })),
      track('b-partial', b.acquire('partial')),
      track('b-final', b.acquire('final')),
    ])
    hold.release()
    await done
    expect(order).toEqual(['b-final', 'a-ahead', 'b-partial'])
  })

  it('takes nothing back for a bulk final, nor with preempt off', async () => {
    const scheduler = new InferenceScheduler()
    const revision = await scheduler.gate().acquire('revision')
    const bulk = scheduler.gate({ bulk: true }).acquire('final')
    expect(revision.preempted?.aborted).toBe(false)
    revision.release()
    ;(await bulk).release()

    const off = new InferenceScheduler({ preempt: false })
    const partial = await off.gate().acquire('partial')
    const final = off.gate().acquire('final')
    expect(partial.preempted?.aborted).toBe(false)
    partial.release()
    ;(await final).release()
    expect(off.stats.byKind.partial.preempted).toBe(0)
  })

  it('books calls, waiting, engine time and CPU by kind, CPU shared among the turns running', async () => {
    let now = 0
    let cpu = 0 // microseconds
    const scheduler = new InferenceScheduler({ concurrency: 2, now: () => now, cpuMicros: () => cpu })
    const final = await scheduler.gate().acquire('final')
    const partial = await scheduler.gate().acquire('partial')
    now += 1000
    cpu += 2_000_000 // 2 CPU-s while both ran: 1 each
    partial.release()
    const revision = scheduler.gate().acquire('revision')
    const r = await revision // a free slot: it runs beside the final
    now += 500
    cpu += 1_000_000 // 1 CPU-s while the final and the revision ran
    final.release()
    now += 500
    cpu += 400_000 // the revision alone
    r.release()
    cpu += 5_000_000 // nothing ran: nobody's
    const k = scheduler.stats.byKind
    expect(k.final).toMatchObject({ calls: 1, busySeconds: 1.5, waitSeconds: 0 })
    expect(k.final.cpuSeconds).toBeCloseTo(1.5)
    expect(k.partial).toMatchObject({ calls: 1, busySeconds: 1 })
    expect(k.partial.cpuSeconds).toBeCloseTo(1)
    expect(k.revision).toMatchObject({ calls: 1, busySeconds: 1 })
    expect(k.revision.cpuSeconds).toBeCloseTo(0.9)
  })

  it('books the time a request waited for its turn, and finals computed ahead and bulk work apart', async () => {
    let now = 0
    const scheduler = new InferenceScheduler({ now: () => now, cpuMicros: () => 0 })
    const hold = await scheduler.gate().acquire('final')
    const waiting = scheduler.gate().acquire('final')
    now += 250
    hold.release()
    ;(await waiting).release()
    expect(scheduler.stats.byKind.final.waitSeconds).toBeCloseTo(0.25)
    const ahead = await scheduler.gate().acquire('final', undefined, { ahead: true })
    now += 100
    ahead.release()
    ;(await scheduler.gate({ bulk: true }).acquire('final')).release()
    const k = scheduler.stats.byKind
    expect([k.final.calls, k.ahead.calls, k.bulk.calls]).toEqual([2, 1, 1])
    expect(k.ahead.busySeconds).toBeCloseTo(0.1)
    expect(scheduler.stats.started.final).toBe(4) // every final, however booked
  })

  it('a session’s final does not wait for another session’s revision; the revision runs again after it', async () => {
    for (const stopsRunningCalls of [true, false]) {
      const scheduler = new InferenceScheduler()
      const backend = new SlowRevisions({ voice, stopsRunningCalls })
      await backend.loadModel('fake')
      const session = (gate = scheduler.gate()) =>
        new StreamingSession({ backend, strategy: 'prompt', gate, partialIntervalMs: 0, reviseMaxMs: 5000 })
      const [a, b] = [session(), session()]
      const order: string[] = []
      const events = [a, b].map(async (s, k) => {
        for await (const e of s) if (e.type !== 'partial') order.push(`${'ab'[k]}-${e.type}`)
      })
      a.pushAudio(voice.speak(SENTENCES[0]!, 100, 200).audio)
      a.endUtterance()
      const aEnded = a.end() // its block is due: its revision starts after its final
      while (scheduler.stats.byKind.revision.calls === 0) await new Promise((r) => setTimeout(r, 5))
      b.pushAudio(voice.speak(SENTENCES[1]!, 100, 200).audio)
      b.endUtterance()
      await Promise.all([aEnded, b.end()])
      await Promise.all(events)
      const k = scheduler.stats.byKind
      if (stopsRunningCalls) {
        // b's final took the turn of a's revision, which ran again after it, whole.
        expect(order.indexOf('b-final')).toBeLessThan(order.indexOf('a-revision'))
        expect(k.revision.preempted).toBe(1)
        expect(k.revision.calls).toBe(3) // a's, taken back; a's again; b's
      } else {
        // A backend that cannot stop a call keeps it: the final waits for the revision.
        expect(order.indexOf('a-revision')).toBeLessThan(order.indexOf('b-final'))
        expect(k.revision.calls).toBe(2)
      }
      expect(order.filter((e) => e.endsWith('revision')).sort()).toEqual(['a-revision', 'b-revision'])
    }
  })
})
