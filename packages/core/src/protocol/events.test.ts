import { describe, expect, it } from 'vitest'
import { WsError } from '../errors.js'
import { EventQueue } from '../session/event-queue.js'
import { sessionEventToMessage } from './events.js'
import { parseServerMessage } from './validate.js'

describe('session events on the wire', () => {
  it('become valid snake_case protocol messages', () => {
    const messages = [
      sessionEventToMessage({
        type: 'partial',
        utteranceId: 3,
        text: 'a b',
        stable: 'a',
        unstable: 'b',
        audioStart: 1,
        audioEnd: 2,
        processingTimeMs: 40,
        lagSeconds: 0.25,
      }),
      sessionEventToMessage({
        type: 'final',
        utteranceId: 3,
        text: 'a b',
        segments: [{ start: 1, end: 2, text: 'a b' }],
        language: 'en',
        audioStart: 1,
        audioEnd: 2.5,
        processingTimeMs: 90,
        reason: 'vad_end',
      }),
      sessionEventToMessage({ type: 'speech_start', t: 0.5 }),
      sessionEventToMessage({
        type: 'error',
        error: new WsError('backend_failed', 'worker died', { retryable: true }),
        utteranceId: 2,
        audioStart: 0,
        audioEnd: 1,
      }),
    ]
    for (const m of messages) expect(parseServerMessage(JSON.stringify(m))).toEqual(m)
    expect(messages[0]).toMatchObject({ utterance_id: 3, audio_start: 1, processing_time_ms: 40 })
    expect(messages[3]).toEqual({
      type: 'error',
      code: 'backend_failed',
      message: 'worker died',
      retryable: true,
      utterance_id: 2,
      audio_start: 0,
      audio_end: 1,
    })
  })
})

describe('EventQueue', () => {
  it('delivers in order to a waiting or a late reader, then ends', async () => {
    const q = new EventQueue<number>()
    const first = q.next()
    q.push(1)
    q.push(2)
    q.end()
    q.push(3) // after end: dropped
    expect(await first).toEqual({ value: 1, done: false })
    const rest: number[] = []
    for await (const n of q) rest.push(n)
    expect(rest).toEqual([2])
  })

  it('calls onReturn once when the reader leaves early', async () => {
    let returned = 0
    const q = new EventQueue<number>(() => returned++)
    q.push(1)
    q.push(2)
    for await (const _ of q) break
    await q.return()
    expect(returned).toBe(1)
    expect(q.done).toBe(true)
  })
})
