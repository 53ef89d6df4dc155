/**
 * Every error this project throws on purpose is a {@link WsError}: a stable `code` that
 * programs switch on (and that travels in the wire protocol), a one-line message for people,
 * and `retryable`, which says whether the same call may succeed if made again.
 */

/** The error codes, shared by the libraries, the wire protocol and the CLIs. */
export const ERROR_CODES = [
  // input
  'invalid_message',
  'invalid_config',
  'invalid_audio',
  'invalid_wav',
  'invalid_frame',
  'unsupported_encoding',
  'unsupported_sample_rate',
  'audio_too_large',
  // models and backends
  'model_not_found',
  'model_load_failed',
  'model_not_loaded',
  'backend_failed',
  'setup_failed',
  // sessions and the server
  'server_busy',
  'session_timeout',
  'idle_timeout',
  'unauthorized',
  'slow_consumer',
  'connection_failed',
  'not_found',
  // voice pipelines (@ws/voice)
  'llm_unavailable',
  'llm_failed',
  'tts_failed',
  // lifecycle
  'aborted',
  'closed',
  'internal_error',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

const BRAND: unique symbol = Symbol.for('@ws/core/WsError') as never

export interface WsErrorOptions {
  /** Whether the same operation may succeed if tried again (default: false). */
  retryable?: boolean
  /** The underlying error, if any. */
  cause?: unknown
  /** Structured details for logs and protocol messages. */
  details?: Record<string, unknown>
}

export class WsError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly details: Record<string, unknown> | undefined
  /** @internal brand that survives two copies of this package in one process */
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options: WsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WsError'
    this.code = code
    this.retryable = options.retryable ?? false
    this.details = options.details
  }

  /**
   * `err instanceof WsError` is true for errors made by any copy of `@ws/core` (ESM and CJS
   * builds, or two versions in one dependency tree), because it checks the brand, not the
   * prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isWsError(value)
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable }
  }
}

/** True when `value` is a {@link WsError} from any copy of this package (and has `code`, if given). */
export function isWsError(value: unknown, code?: ErrorCode): value is WsError {
  if (typeof value !== 'object' || value === null) return false
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (value as WsError).code === code
}

/** An error for an aborted operation, carrying the signal's reason as its cause. */
export function abortError(signal?: AbortSignal, what = 'operation'): WsError {
  return new WsError('aborted', `The ${what} was aborted`, { cause: signal?.reason })
}

/** Throws the abort error when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortError(signal, what)
}

/** Wraps anything thrown into a {@link WsError}, keeping WsErrors as they are. */
export function toWsError(value: unknown, code: ErrorCode = 'internal_error', retryable = false): WsError {
  if (isWsError(value)) return value
  const message = value instanceof Error ? value.message : String(value)
  return new WsError(code, message, { cause: value, retryable })
}
