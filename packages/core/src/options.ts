import { WsError } from './errors.js'

/**
 * Checks an options object's fields for the packages' constructors: each failure throws
 * `invalid_config` with one line naming the owner and the option.
 *
 * ```ts
 * const check = optionChecker('WhisperCppBackend')
 * check.integer('threads', o.threads, 1, 256)
 * check.that(o.audioCtx !== 0, 'audioCtx must not be 0')
 * ```
 */
export function optionChecker(owner: string) {
  const fail = (message: string): never => {
    throw new WsError('invalid_config', `${owner}: ${message}`)
  }
  return {
    fail,
    /** An integer in [min, max]. */
    integer(name: string, value: unknown, min: number, max: number): void {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        fail(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`)
    },
    /** A non-empty string. */
    string(name: string, value: unknown, example: string): void {
      if (typeof value !== 'string' || value === '') fail(`${name} must be a string such as "${example}"`)
    },
    /** One of `values`. */
    oneOf(name: string, value: unknown, values: readonly string[]): void {
      if (typeof value !== 'string' || !values.includes(value))
        fail(`${name} must be ${values.map((v) => `'${v}'`).join(', ')}; got ${String(value)}`)
    },
    that(condition: boolean, message: string): void {
      if (!condition) fail(message)
    },
  }
}
