import { isWsError } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { parseVoiceMessage } from './protocol.js'

const codeOf = (raw: string) => {
  try {
    parseVoiceMessage(raw)
    return 'none'
  } catch (e) {
    return isWsError(e) ? e.code : 'untyped'
  }
}

describe('parseVoiceMessage', () => {
  it('reads the four client messages', () => {
    expect(
      parseVoiceMessage('{"type":"audio_start","format":{"encoding":"pcm_f32le","sample_rate":48000}}'),
    ).toEqual({
      type: 'audio_start',
      format: { encoding: 'pcm_f32le', sample_rate: 48000 },
    })
    expect(parseVoiceMessage('{"type":"audio_start"}')).toEqual({ type: 'audio_start' })
    expect(parseVoiceMessage('{"type":"audio_end"}')).toEqual({ type: 'audio_end' })
    expect(parseVoiceMessage('{"type":"cancel"}')).toEqual({ type: 'cancel' })
    expect(parseVoiceMessage('{"type":"text","content":"hi"}')).toEqual({ type: 'text', content: 'hi' })
  })

  it('refuses anything else with a typed error', () => {
    expect(codeOf('nope')).toBe('invalid_message')
    expect(codeOf('[]')).toBe('invalid_message')
    expect(codeOf('{"type":"dance"}')).toBe('invalid_message')
    expect(codeOf('{"type":"text","content":"  "}')).toBe('invalid_message')
    expect(codeOf(JSON.stringify({ type: 'text', content: 'x'.repeat(5000) }))).toBe('invalid_message')
    expect(codeOf('{"type":"audio_start","format":{"encoding":"mp3"}}')).toBe('unsupported_encoding')
    expect(codeOf('{"type":"audio_start","format":{"sample_rate":100}}')).toBe('unsupported_sample_rate')
    expect(codeOf('{"type":"audio_start","format":7}')).toBe('invalid_message')
  })
})
