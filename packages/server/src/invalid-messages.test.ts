import { WsError } from '@ws/core'
import { describe, expect, it } from 'vitest'
import { invalidMessageVerdict } from './invalid-messages.js'

describe('invalidMessageVerdict', () => {
  const error = new WsError('invalid_message', 'bad frame')

  it('answers each invalid message below the limit with its error', () => {
    expect(invalidMessageVerdict(1, 3, error)).toEqual({ send: error })
    expect(invalidMessageVerdict(2, 3, error)).toEqual({ send: error })
  })

  it('closes at the limit, saying why, and answers nothing after', () => {
    const at = invalidMessageVerdict(3, 3, error)
    expect(at.send?.code).toBe('invalid_message')
    expect(at.send?.message).toBe('bad frame (3 invalid messages: closing the connection)')
    expect(at.close).toBe('too many invalid messages')
    expect(invalidMessageVerdict(4, 3, error)).toEqual({})
  })

  it('closes at the first where one is the limit, with the error itself', () => {
    expect(invalidMessageVerdict(1, 1, error)).toEqual({ send: error, close: 'bad frame' })
  })
})
