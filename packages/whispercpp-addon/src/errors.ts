export type WhisperAddonErrorCode =
  | 'aborted'
  | 'failed'
  | 'load_failed'
  | 'freed'
  | 'invalid_argument'
  | 'no_binary'

/** The one error type this package throws; `code` says what went wrong. */
export class WhisperAddonError extends Error {
  readonly code: WhisperAddonErrorCode

  constructor(code: WhisperAddonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'WhisperAddonError'
    this.code = code
  }
}
