import type { WhisperBackend } from '@ws/core'

/** A backend that counts calls in flight, and a wait until none is (the virtual clock's step). */
export function tracked(backend: WhisperBackend): { wrapper: WhisperBackend; settle: () => Promise<void> }
