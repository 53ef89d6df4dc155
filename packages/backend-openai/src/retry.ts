import { abortError } from '@ws/core'

export interface RetryPolicy {
  /** Attempts after the first (default 3). */
  retries: number
  /** The first delay; each retry doubles it, with full jitter (default 250). */
  baseDelayMs: number
  /** The longest delay, `Retry-After` included (default 10 000). */
  maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 10_000 }

/** Statuses worth trying again: rate limited, or the server (or a proxy before it) failing. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/**
 * `Retry-After` as milliseconds (seconds or an HTTP date), or undefined when absent or
 * unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

/**
 * The wait before retry number `attempt` (0 for the first retry): what the server asked for,
 * else exponential backoff with full jitter, at most `maxDelayMs` either way.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  asked?: number,
  random = Math.random,
): number {
  if (asked !== undefined) return Math.min(policy.maxDelayMs, asked)
  return Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt))
}

/** Waits `ms`, or rejects with `aborted` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, 'transcription'))
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal, 'transcription'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
