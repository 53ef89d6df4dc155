import { describe, expect, it } from 'vitest'
import { isWsError } from './errors.js'
import { optionChecker, withDefaults } from './options.js'

describe('optionChecker', () => {
  const check = optionChecker('Thing')
  const error = (fn: () => void) => {
    try {
      fn()
    } catch (err) {
      return err
    }
    return undefined
  }

  it('refuses what is out of range with invalid_config naming the owner and the option', () => {
    for (const value of [0, 9, 1.5, Number.NaN, '3', undefined]) {
      const err = error(() => check.integer('threads', value, 1, 8))
      expect(isWsError(err, 'invalid_config')).toBe(true)
      expect((err as Error).message).toBe(
        `Thing: threads must be an integer from 1 to 8, got ${String(value)}`,
      )
    }
    expect(
      isWsError(
        error(() => check.string('device', '', 'cpu')),
        'invalid_config',
      ),
    ).toBe(true)
    expect((error(() => check.that(false, 'no')) as Error).message).toBe('Thing: no')
  })

  it('lets valid values through', () => {
    expect(() => {
      check.integer('threads', 1, 1, 8)
      check.integer('threads', 8, 1, 8)
      check.string('device', 'cpu', 'cpu')
      check.that(true, 'unused')
    }).not.toThrow()
  })
})

describe('withDefaults', () => {
  const DEFAULTS = { threads: 4, device: 'cpu', language: undefined as string | undefined }

  it('takes each option given, and the default for one missing or undefined', () => {
    const options: { threads?: number; device?: string } = { threads: undefined, device: 'gpu' }
    expect(withDefaults(DEFAULTS, options)).toEqual({ threads: 4, device: 'gpu', language: undefined })
    expect(withDefaults(DEFAULTS, { threads: 0 })).toMatchObject({ threads: 0 }) // falsy is a value
    expect(withDefaults(DEFAULTS)).toEqual(DEFAULTS)
  })

  it('returns a new object and changes neither argument', () => {
    const options = { threads: 2 }
    const o = withDefaults(DEFAULTS, options)
    expect(o).not.toBe(DEFAULTS)
    expect(DEFAULTS.threads).toBe(4)
    expect(options).toEqual({ threads: 2 })
  })
})
