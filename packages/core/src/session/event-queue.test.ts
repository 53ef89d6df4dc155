import { describe, expect, it } from 'vitest'
import { EventQueue } from './event-queue.js'

describe('EventQueue', () => {
  it('delivers queued items, then ends', async () => {
    const q = new EventQueue<number>()
    q.push(1)
    q.push(2)
    q.end()
    const seen: number[] = []
    for await (const x of q) seen.push(x)
    expect(seen).toEqual([1, 2])
  })

  it('throws a failure after the queued items, to a waiting reader too', async () => {
    const q = new EventQueue<number>()
    q.push(1)
    q.fail(new Error('gone'))
    const seen: number[] = []
    await expect(
      (async () => {
        for await (const x of q) seen.push(x)
      })(),
    ).rejects.toThrow('gone')
    expect(seen).toEqual([1])
    const waiting = new EventQueue<number>()
    const next = waiting.next()
    waiting.fail(new Error('late'))
    await expect(next).rejects.toThrow('late')
  })

  it('calls onReturn when the reader leaves early', async () => {
    let closed = 0
    const q = new EventQueue<number>(() => closed++)
    q.push(1)
    q.push(2)
    for await (const _ of q) break
    expect(closed).toBe(1)
  })
})
