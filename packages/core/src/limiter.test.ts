import { describe, expect, it } from 'vitest'
import { isWsError } from './errors.js'
import { Limiter } from './limiter.js'

describe('Limiter', () => {
  it('runs at most `limit` tasks at once, the others in order', async () => {
    const limiter = new Limiter(2)
    const started: number[] = []
    const release: (() => void)[] = []
    let running = 0
    let most = 0
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        started.push(i)
        running++
        most = Math.max(most, running)
        await new Promise<void>((r) => release.push(r))
        running--
        return i
      }),
    )
    await new Promise((r) => setTimeout(r, 0))
    expect(started).toEqual([0, 1])
    while (release.length) {
      release.shift()!()
      await new Promise((r) => setTimeout(r, 0))
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4])
    expect(started).toEqual([0, 1, 2, 3, 4])
    expect(most).toBe(2)
    expect(limiter.running).toBe(0)
  })

  it('an abort takes a waiting task out with "aborted"; a failing task frees its slot', async () => {
    const limiter = new Limiter(1)
    let release = () => {}
    const first = limiter.run(() => new Promise<void>((r) => (release = r)))
    const controller = new AbortController()
    const waiting = limiter.run(async () => 'never', controller.signal, 'the test task')
    controller.abort()
    const error = await waiting.catch((e: unknown) => e)
    expect(isWsError(error) && error.code).toBe('aborted')
    expect((error as Error).message).toContain('the test task')
    release()
    await first
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limiter.run(async () => 'next')).toBe('next')
  })
})
