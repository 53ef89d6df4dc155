import { describe, expect, it } from 'vitest'
import { isWsError } from '../errors.js'
import {
  decodeAudioFrame,
  encodeAudioFrame,
  parseClientMessage,
  parseQueryConfig,
  parseServerMessage,
  parseTranscribePath,
} from './validate.js'

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return isWsError(err) ? err.code : `untyped: ${String(err)}`
  }
  return 'accepted'
}

describe('protocol v1 validation', () => {
  it('parses every client message type', () => {
    expect(parseClientMessage('{"type":"vad_end"}')).toEqual({ type: 'vad_end' })
    expect(parseClientMessage('{"type":"end"}')).toEqual({ type: 'end' })
    expect(parseClientMessage('{"type":"cancel"}')).toEqual({ type: 'cancel' })
    expect(parseClientMessage('{"type":"keepalive"}')).toEqual({ type: 'keepalive' })
    expect(
      parseClientMessage(
        '{"type":"config","language":"en","sample_rate":48000,"encoding":"pcm_f32le","vad":"client","partial_interval_ms":250,"word_timestamps":true,"task":"translate"}',
      ),
    ).toEqual({
      type: 'config',
      language: 'en',
      sample_rate: 48_000,
      encoding: 'pcm_f32le',
      vad: 'client',
      partial_interval_ms: 250,
      word_timestamps: true,
      task: 'translate',
    })
    const samples = new Float32Array([0.5, -0.25, 0])
    const frame = parseClientMessage(
      JSON.stringify({ type: 'audio_frame', audio: encodeAudioFrame(samples), sample_rate: 16000 }),
    )
    expect(frame.type).toBe('audio_frame')
    expect(decodeAudioFrame(frame as { audio: string })).toEqual(samples)
  })

  it('gives typed errors with codes for malformed messages', () => {
    expect(codeOf(() => parseClientMessage('not json'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('[1,2]'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('{"kind":"end"}'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('{"type":"launch"}'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('{"type":"audio_frame"}'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('{"type":"audio_frame","audio":"***"}'))).toBe('invalid_message')
    expect(codeOf(() => parseClientMessage('{"type":"audio_frame","audio":"AAAA","sample_rate":-5}'))).toBe(
      'unsupported_sample_rate',
    )
    expect(codeOf(() => parseClientMessage('{"type":"config","encoding":"mp3"}'))).toBe(
      'unsupported_encoding',
    )
    expect(codeOf(() => parseClientMessage('{"type":"config","sample_rate":"fast"}'))).toBe(
      'unsupported_sample_rate',
    )
    expect(codeOf(() => parseClientMessage('{"type":"config","vad":"maybe"}'))).toBe('invalid_config')
    expect(codeOf(() => parseClientMessage('{"type":"config","langauge":"en"}'))).toBe('invalid_config')
    expect(codeOf(() => parseClientMessage('{"type":"config","partial_interval_ms":5}'))).toBe(
      'invalid_config',
    )
    expect(codeOf(() => parseClientMessage('{"type":"config","word_timestamps":"yes"}'))).toBe(
      'invalid_config',
    )
    expect(codeOf(() => parseClientMessage('{"type":"config","task":"summarize"}'))).toBe('invalid_config')
    expect(codeOf(() => parseClientMessage('{"type":"config","language":"English"}'))).toBe('invalid_config')
    // a frame of 3 bytes is not whole float32 samples
    expect(codeOf(() => decodeAudioFrame({ audio: 'AAAA' }))).toBe('invalid_audio')
  })

  it('reads options from query parameters', () => {
    const q = new URLSearchParams(
      'sample_rate=44100&encoding=pcm_s16le&word_timestamps=1&vad=off&language=auto&token=x',
    )
    expect(parseQueryConfig(q)).toEqual({
      sample_rate: 44_100,
      encoding: 'pcm_s16le',
      word_timestamps: true,
      vad: 'off',
    })
    expect(codeOf(() => parseQueryConfig(new URLSearchParams('sample_rate=abc')))).toBe(
      'unsupported_sample_rate',
    )
    expect(codeOf(() => parseQueryConfig(new URLSearchParams('colour=red')))).toBe('invalid_config')
  })

  it('maps paths to strategies', () => {
    expect(parseTranscribePath('/ws/transcribe/agreement')).toBe('agreement')
    expect(parseTranscribePath('/ws/transcribe/context/')).toBe('context')
    expect(codeOf(() => parseTranscribePath('/ws/transcribe/magic'))).toBe('not_found')
    expect(codeOf(() => parseTranscribePath('/ws/other'))).toBe('not_found')
  })

  it('parses server messages for clients, refusing malformed ones', () => {
    expect(parseServerMessage('{"type":"speech_start","t":1.5}')).toEqual({ type: 'speech_start', t: 1.5 })
    expect(parseServerMessage('{"type":"error","code":"server_busy","message":"full"}')).toMatchObject({
      code: 'server_busy',
    })
    expect(codeOf(() => parseServerMessage('{"type":"error","code":"meltdown","message":"x"}'))).toBe(
      'invalid_message',
    )
    expect(codeOf(() => parseServerMessage('{"type":"final","utterance_id":1,"text":"x"}'))).toBe(
      'invalid_message',
    )
    expect(
      codeOf(() =>
        parseServerMessage(
          '{"type":"ready","session_id":"a","strategy":"magic","backend":"b","model":"m","sample_rate":16000}',
        ),
      ),
    ).toBe('invalid_message')
  })
})
