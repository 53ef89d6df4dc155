import type { WhisperBackend } from '@ws/core'

/**
 * A backend that counts calls in flight, a wait until none is (the virtual clock's step), and
 * the time each final's decode (`live` call) took, in ms.
 */
export function tracked(backend: WhisperBackend): {
  wrapper: WhisperBackend
  settle: () => Promise<void>
  liveMs: number[]
}
