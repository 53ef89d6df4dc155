/**
 * The logging contract: a subset of pino's API, so a pino logger can be passed as is.
 * Library code logs only through this interface; the default is silent.
 */
export interface LogFn {
  (message: string): void
  (details: object, message?: string): void
}

export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child?(bindings: Record<string, unknown>): Logger
}

const noop: LogFn = () => {}

/** A logger that drops everything: the default for every component. */
export const noopLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
})

/** A child logger when the logger supports it, the logger itself otherwise. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return logger.child ? logger.child(bindings) : logger
}
