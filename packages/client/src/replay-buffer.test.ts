import { describe, expect, it } from 'vitest'
import { ReplayBuffer } from './replay-buffer.js'

const chunk = (from: number, samples: number) =>
  Uint8Array.from({ length: samples * 2 }, (_, i) => (from + i) % 256)

describe('ReplayBuffer', () => {
  it('gives back the audio from a stream second on, cut at a sample', () => {
    const b = new ReplayBuffer(10, 10, 2) // 10 samples a second, PCM16
    b.push(0, chunk(0, 10), 1)
    b.push(1, chunk(20, 10), 1)
    const { start, chunks } = b.since(0.5)
    expect(start).toBe(0.5)
    expect(chunks.map((c) => c.byteLength)).toEqual([10, 20])
    expect([...chunks[0]!.subarray(0, 2)]).toEqual([10, 11])
    expect(b.since(2)).toEqual({ start: 2, chunks: [] })
  })

  it('keeps at most maxSeconds: older audio is dropped, and `start` says where the audio given back begins', () => {
    const b = new ReplayBuffer(2, 10, 2)
    for (let s = 0; s < 5; s++) b.push(s, chunk(s, 10), 1)
    expect(b.seconds).toBe(2)
    const { start, chunks } = b.since(1.2)
    expect(start).toBe(3)
    expect(chunks).toHaveLength(2)
  })

  it('holds nothing when off, and copies what it keeps', () => {
    const off = new ReplayBuffer(0, 16_000, 2)
    off.push(0, chunk(0, 160), 0.01)
    expect(off.since(0)).toEqual({ start: 0, chunks: [] })
    const b = new ReplayBuffer(1, 10, 2)
    const bytes = chunk(0, 10)
    b.push(0, bytes, 1)
    bytes.fill(0)
    expect(b.since(0).chunks[0]![1]).toBe(1)
  })
})
