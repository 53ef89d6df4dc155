import { loadAddon } from './binary.js'

export type WhisperLogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<number, WhisperLogLevel> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' }
const NUMBERS: Record<WhisperLogLevel, number> = { debug: 1, info: 2, warn: 3, error: 4 }

/**
 * Routes whisper.cpp's and ggml's log lines to `fn` (lines below `minLevel` are dropped in
 * native code). Without a logger the library prints nothing: stderr stays clean.
 * Pass `undefined` to stop.
 */
export async function setWhisperLogger(
  fn: ((level: WhisperLogLevel, line: string) => void) | undefined,
  minLevel: WhisperLogLevel = 'debug',
): Promise<void> {
  const { addon } = await loadAddon()
  addon.setLogger(fn ? (level, line) => fn(LEVELS[level] ?? 'info', line) : null, NUMBERS[minLevel])
}
