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

/**
 * `defaults` with each option of `options` over it, except those set to `undefined`: an
 * option passed as `undefined` (`{ threads: flags.threads }` with no flag) takes its default,
 * as a missing one does. A new object; neither argument is changed.
 *
 * ```ts
 * const o = withDefaults(DEFAULT_WHISPER_CPP_OPTIONS, options)
 * ```
 */
export function withDefaults<D extends object, O extends object>(
  defaults: D,
  options?: O,
): WithDefaults<D, O> {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  for (const [key, value] of Object.entries(options ?? {})) if (value !== undefined) out[key] = value
  return out as WithDefaults<D, O>
}

/** What {@link withDefaults} returns: an option given, or its default where it has one. */
export type WithDefaults<D, O> = Omit<D, keyof O> &
  Omit<O, keyof D> & { [K in keyof O & keyof D]-?: Exclude<O[K], undefined> | D[K] }
