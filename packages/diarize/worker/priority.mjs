// @ts-check
// Worker threads that should give way to transcription: on Linux a thread has its own nice
// value, so raising this thread's (which needs no privilege) lets whisper's threads take the
// CPU first when both want it, and this one runs in what is left. Elsewhere, or if the thread's
// id cannot be read, the thread keeps its priority.
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

/**
 * Sets the calling thread's nice value (0–19; 0 leaves it). Returns whether it was set.
 * @param {number} niceness
 */
export function lowerThreadPriority(niceness) {
  if (!niceness || process.platform !== 'linux') return false
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>": the id setpriority takes for one thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isInteger(tid) || tid <= 0) return false
    setPriority(tid, niceness)
    return true
  } catch {
    return false
  }
}
