import { describe, expect, it } from 'vitest'
import { encodeFrame, FrameDecoder } from './frames.js'

describe('worker frames', () => {
  it('round-trips headers and binary payloads split at any byte', () => {
    const audio = new Float32Array([0.5, -0.25, 1e-7])
    const payload = new Uint8Array(audio.buffer)
    const bytes = Buffer.concat([
      encodeFrame({ type: 'transcribe', id: 1, initial_prompt: 'ünïcode ✓' }, payload),
      encodeFrame({ type: 'cancel', id: 1 }),
    ])
    for (const step of [1, 3, 7, bytes.length]) {
      const decoder = new FrameDecoder()
      const frames = []
      for (let i = 0; i < bytes.length; i += step) frames.push(...decoder.push(bytes.subarray(i, i + step)))
      expect(frames.map((f) => f.header)).toEqual([
        { type: 'transcribe', id: 1, initial_prompt: 'ünïcode ✓' },
        { type: 'cancel', id: 1 },
      ])
      expect(new Float32Array(new Uint8Array(frames[0]!.payload).buffer)).toEqual(audio)
      expect(frames[1]!.payload.length).toBe(0)
    }
  })

  it('refuses a corrupt length prefix with a typed error', () => {
    const bad = Buffer.alloc(8)
    bad.writeUInt32LE(0xffffffff, 0)
    expect(() => new FrameDecoder().push(bad)).toThrow(/Corrupt frame/)
  })
})
