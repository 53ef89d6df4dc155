import { WsError } from '@ws/core'

/** What a connection does with its `count`th message not taken, under a limit of `max`. */
export interface InvalidMessageVerdict {
  /** The error to send (none once the connection is closing). */
  send?: WsError
  /** The close reason, at the `max`th. */
  close?: string
}

/**
 * The `count`th invalid message gets its typed error; the `max`th also closes the connection
 * (the error says so when more than one was allowed); later ones, arriving while it closes,
 * get nothing.
 */
export function invalidMessageVerdict(count: number, max: number, error: WsError): InvalidMessageVerdict {
  if (count < max) return { send: error }
  if (count > max) return {}
  if (max <= 1) return { send: error, close: error.message }
  return {
    send: new WsError(error.code, `${error.message} (${max} invalid messages: closing the connection)`),
    close: 'too many invalid messages',
  }
}
