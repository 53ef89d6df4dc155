import { isWsError } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { decodeWyomingEvent, encodeWyomingEvent, WyomingFrameParser } from './wyoming-framing.js'

/** An event as the `wyoming` package writes it: data as extra bytes after the header. */
function pythonFrame(type: string, data: object | undefined, payload?: Uint8Array): Buffer {
  const body = data ? Buffer.from(JSON.stringify(data)) : undefined
  const header: Record<string, unknown> = { type, version: '1.10.2' }
  if (body) header.data_length = body.length
  if (payload) header.payload_length = payload.length
  return Buffer.concat([
    Buffer.from(`${JSON.stringify(header)}\n`),
    ...(body ? [body] : []),
    ...(payload ? [Buffer.from(payload)] : []),
  ])
}

const chunk = pythonFrame(
  'audio-chunk',
  { rate: 16000, width: 2, channels: 1, timestamp: null },
  new Uint8Array([1, 2, 3, 4, 5, 6]),
)
const stream = Buffer.concat([
  pythonFrame('transcribe', { language: 'en' }),
  pythonFrame('audio-start', { rate: 16000, width: 2, channels: 1 }),
  chunk,
  pythonFrame('audio-stop', { timestamp: null }),
  pythonFrame('describe', undefined),
])

function thrown(f: () => unknown) {
  try {
    f()
  } catch (err) {
    return err
  }
  throw new Error('did not throw')
}

describe('WyomingFrameParser', () => {
  it('cuts a stream into events, data merged and payload apart', () => {
    const events = new WyomingFrameParser().push(stream)
    expect(events.map((e) => e.type)).toEqual([
      'transcribe',
      'audio-start',
      'audio-chunk',
      'audio-stop',
      'describe',
    ])
    expect(events[0]!.data).toEqual({ language: 'en' })
    expect(events[2]!.data).toEqual({ rate: 16000, width: 2, channels: 1, timestamp: null })
    expect([...events[2]!.payload!]).toEqual([1, 2, 3, 4, 5, 6])
    expect(events[4]).toEqual({ type: 'describe', data: {} })
  })

  it('gives the same events whatever the pieces the bytes come in', () => {
    const whole = new WyomingFrameParser().push(stream)
    for (let cut = 1; cut < stream.length; cut++) {
      const parser = new WyomingFrameParser()
      const events = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))]
      expect(events).toEqual(whole)
      expect(parser.buffered).toBe(0)
    }
    const parser = new WyomingFrameParser()
    const byByte = [...stream].flatMap((b) => parser.push(Uint8Array.of(b)))
    expect(byByte).toEqual(whole)
  })

  it('merges inline data with the extra data, the extra winning', () => {
    const extra = Buffer.from(JSON.stringify({ language: 'de' }))
    const header = { type: 'transcribe', data: { name: 'base', language: 'en' }, data_length: extra.length }
    const [event] = new WyomingFrameParser().push(
      Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), extra]),
    )
    expect(event!.data).toEqual({ name: 'base', language: 'de' })
  })

  it('a header that is not JSON is a typed error, and the parser stays failed', () => {
    const parser = new WyomingFrameParser()
    const err = thrown(() => parser.push(Buffer.from('not json\n')))
    expect(isWsError(err) && err.code).toBe('invalid_frame')
    expect(parser.buffered).toBe(0)
    expect(thrown(() => parser.push(pythonFrame('describe', undefined)))).toBe(err)
  })

  it.each([
    ['no type', '{"data":{}}\n'],
    ['an array', '[1]\n'],
    ['data not an object', '{"type":"x","data":[1]}\n'],
    ['a negative length', '{"type":"x","payload_length":-1}\n'],
    ['a fractional length', '{"type":"x","data_length":1.5}\n'],
  ])('a header with %s is invalid_frame', (_, header) => {
    const err = thrown(() => new WyomingFrameParser().push(Buffer.from(header)))
    expect(isWsError(err) && err.code).toBe('invalid_frame')
  })

  it('extra data that is not a JSON object is invalid_frame', () => {
    const bytes = Buffer.from('{"type":"x","data_length":3}\nabc')
    const err = thrown(() => new WyomingFrameParser().push(bytes))
    expect(isWsError(err) && err.code).toBe('invalid_frame')
  })

  it('an oversized payload is refused from its header, before any of it is held', () => {
    const parser = new WyomingFrameParser({ maxBodyBytes: 1024 })
    const header = Buffer.from('{"type":"audio-chunk","data_length":2,"payload_length":5000000}\n')
    const err = thrown(() => parser.push(header))
    expect(isWsError(err) && err.code).toBe('audio_too_large')
    expect(parser.buffered).toBe(0)
    const data = thrown(() =>
      new WyomingFrameParser({ maxBodyBytes: 10 }).push(Buffer.from('{"type":"x","data_length":11}\n')),
    )
    expect(isWsError(data) && data.code).toBe('invalid_frame')
  })

  it('a header line that never ends is refused at the limit', () => {
    const parser = new WyomingFrameParser({ maxHeaderBytes: 100 })
    expect(parser.push(Buffer.from(`{"type":"${'a'.repeat(50)}`))).toEqual([])
    const err = thrown(() => parser.push(Buffer.from('b'.repeat(60))))
    expect(isWsError(err) && err.code).toBe('invalid_frame')
    expect(parser.buffered).toBe(0)
  })

  it('an event over the limits at the end of a good one keeps the good one out of the error', () => {
    const parser = new WyomingFrameParser({ maxBodyBytes: 100 })
    expect(parser.push(pythonFrame('describe', undefined)).map((e) => e.type)).toEqual(['describe'])
    expect(thrown(() => parser.push(Buffer.from('{"type":"x","payload_length":101}\n')))).toBeDefined()
  })
})

describe('encodeWyomingEvent / decodeWyomingEvent', () => {
  it('writes the data as extra bytes after the header, as the wyoming package does', () => {
    const bytes = encodeWyomingEvent({ type: 'transcript', data: { text: 'hello wörld' } })
    const [line, rest] = [bytes.subarray(0, bytes.indexOf(10)), bytes.subarray(bytes.indexOf(10) + 1)]
    const header = JSON.parse(line.toString())
    expect(header).toMatchObject({ type: 'transcript', version: '1.10.2', data_length: rest.length })
    expect(header.data).toBeUndefined()
    expect(JSON.parse(rest.toString())).toEqual({ text: 'hello wörld' })
  })

  it('round-trips events with and without data and payload', () => {
    for (const event of [
      { type: 'transcript-stop', data: {} },
      { type: 'audio-chunk', data: { rate: 8000, width: 1, channels: 2 }, payload: Uint8Array.of(9, 8, 7) },
    ]) {
      expect(decodeWyomingEvent(encodeWyomingEvent(event))).toEqual(event)
    }
    expect(decodeWyomingEvent(chunk).type).toBe('audio-chunk')
  })

  it('decodeWyomingEvent takes exactly one whole event', () => {
    const two = Buffer.concat([chunk, chunk])
    expect(isWsError(thrown(() => decodeWyomingEvent(two)))).toBe(true)
    expect(isWsError(thrown(() => decodeWyomingEvent(chunk.subarray(0, chunk.length - 1))))).toBe(true)
  })
})
