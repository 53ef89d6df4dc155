import { createServer } from 'node:net'
import { isWsError } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { connect } from './node-session.js'
import { microphone, readAudio } from './sources.js'

describe('sources', () => {
  it('reads non-WAV audio only through ffmpeg, with a clear error without it', async () => {
    const path = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      const err = await readAudio(new TextEncoder().encode('ID3 not a wav file')).catch((e: unknown) => e)
      expect(isWsError(err, 'invalid_audio')).toBe(true)
      expect((err as Error).message).toMatch(/ffmpeg/)
    } finally {
      process.env.PATH = path
    }
  })

  it('names the recorders to install when none is on the PATH', async () => {
    const path = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      const err = await microphone()
        .next()
        .catch((e: unknown) => e)
      expect(isWsError(err, 'invalid_config')).toBe(true)
      expect((err as Error).message).toMatch(/sox.*arecord.*ffmpeg/)
    } finally {
      process.env.PATH = path
    }
  })

  it('a missing file is an invalid_config error naming it', async () => {
    const err = await readAudio('/nonexistent/speech.wav').catch((e: unknown) => e)
    expect(isWsError(err, 'invalid_config')).toBe(true)
    expect((err as Error).message).toContain('/nonexistent/speech.wav')
  })
})

describe('TranscriptionSession lifecycle', () => {
  it('closes when its AbortSignal aborts, and close() is idempotent', async () => {
    // A TCP server that never answers the WebSocket handshake.
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    const abort = new AbortController()
    const session = connect(`ws://127.0.0.1:${port}`, { signal: abort.signal })
    abort.abort()
    await expect(session.ready).rejects.toSatisfy((e) => isWsError(e, 'closed'))
    expect(session.closed).toBe(true)
    await session.close()
    await session.close()
    expect(() => session.sendAudio(new Int16Array(10))).toThrow(/ended/)
    silent.close()
  })
})
