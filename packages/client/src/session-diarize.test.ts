import { PROTOCOL_VERSION } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { sessionUrl } from './options.js'
import { TranscriptionSession } from './session.js'
import type { SocketFactory } from './socket.js'
import { speakerText } from './speaker-format.js'

describe('live sessions with diarize', () => {
  it('ask for it in the URL', () => {
    const url = new URL(sessionUrl('ws://h:1', { diarize: true, strategy: 'prompt' }))
    expect(url.pathname).toBe('/ws/transcribe/prompt')
    expect(url.searchParams.get('diarize')).toBe('true')
    expect(new URL(sessionUrl('ws://h:1')).searchParams.has('diarize')).toBe(false)
  })

  it("keep the server's speakers on a final's segments and words", async () => {
    let opened = ''
    const socket: SocketFactory = (url, events) => {
      opened = url
      queueMicrotask(() => {
        events.onOpen()
        const ready = {
          type: 'ready',
          session_id: 's',
          strategy: 'prompt',
          backend: 'test',
          model: 'tiny.en',
          sample_rate: 16000,
          protocol_version: PROTOCOL_VERSION,
        }
        const word = (text: string, start: number, speaker: string) => ({
          text,
          start,
          end: start + 0.5,
          speaker,
        })
        const final = {
          type: 'final',
          utterance_id: 0,
          text: 'Hello. Hi.',
          language: 'en',
          audio_start: 0,
          audio_end: 2,
          processing_time_ms: 5,
          segments: [
            { start: 0, end: 1, text: 'Hello.', speaker: 'A', words: [word('Hello.', 0, 'A')] },
            { start: 1, end: 2, text: 'Hi.', speaker: 'B', words: [word('Hi.', 1, 'B')] },
          ],
        }
        events.onText(JSON.stringify(ready))
        events.onText(JSON.stringify(final))
        events.onClose(1000, '')
      })
      return { isOpen: true, bufferedAmount: 0, send: () => {}, close: () => {} }
    }
    const session = new TranscriptionSession('ws://h:1', { diarize: true, socket })
    const finals = []
    for await (const event of session) if (event.type === 'final') finals.push(event)
    expect(new URL(opened).searchParams.get('diarize')).toBe('true')
    const segments = finals[0]!.segments
    expect(segments.map((s) => s.speaker)).toEqual(['A', 'B'])
    expect(segments.flatMap((s) => s.words ?? []).map((w) => w.speaker)).toEqual(['A', 'B'])
    expect(speakerText(segments, finals[0]!.text)).toBe('[A] Hello.\n[B] Hi.')
  })
})
