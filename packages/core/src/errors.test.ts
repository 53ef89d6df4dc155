import { describe, expect, it } from 'vitest'
import { isWsError, toWsError, WsError } from './errors.js'

describe('WsError', () => {
  it('carries a code, a message and retryable', () => {
    const err = new WsError('backend_failed', 'the worker died', { retryable: true })
    expect(err).toBeInstanceOf(Error)
    expect(err.toJSON()).toEqual({ code: 'backend_failed', message: 'the worker died', retryable: true })
    expect(new WsError('invalid_audio', 'x').retryable).toBe(false)
  })

  it('is recognised across two copies of the package', async () => {
    // A second, separately evaluated copy of the module, as with a duplicated dependency
    // or the ESM and CJS builds loaded side by side.
    const specifier = './errors.js?copy=2'
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('./errors.js')
    expect(copy.WsError).not.toBe(WsError)
    const foreign = new copy.WsError('server_busy', 'full', { retryable: true })
    expect(foreign instanceof WsError).toBe(true)
    expect(isWsError(foreign, 'server_busy')).toBe(true)
    expect(copy.isWsError(new WsError('closed', 'x'))).toBe(true)
    expect(isWsError(new Error('plain'))).toBe(false)
    expect(isWsError({ code: 'closed', message: 'look-alike' })).toBe(false)
  })

  it('toWsError keeps WsErrors and wraps anything else', () => {
    const e = new WsError('closed', 'x')
    expect(toWsError(e)).toBe(e)
    const wrapped = toWsError(new TypeError('boom'), 'backend_failed', true)
    expect(wrapped).toMatchObject({ code: 'backend_failed', message: 'boom', retryable: true })
    expect(wrapped.cause).toBeInstanceOf(TypeError)
  })
})
