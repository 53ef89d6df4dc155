import { readFileSync } from 'node:fs'
import { isWsError } from '../errors.js'

/**
 * What every whisper-stream command exits with, so scripts can tell a typo from an outage:
 * 0 done, 1 any other failure, 2 bad usage, 3 cannot connect or the connection was lost, 4 the
 * server reported an error.
 */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, connection: 3, server: 4 } as const

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** Bad usage of a command (an unknown command, a missing argument): exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** The `version` of the package.json at `url` (pass `new URL('../package.json', import.meta.url)`). */
export function packageVersion(url: URL): string {
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
}

/** Whether `err` is `util.parseArgs` refusing the command line (an unknown or malformed option). */
export function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
}

export interface RunCliOptions {
  /** The exit code of an error `main` threw, when the command knows better than the default
   * (usage errors 2, anything else 1). */
  exitCodeOf?: (err: unknown) => ExitCode | undefined
}

/**
 * Runs a command's `main` and exits with its code once what it printed is written (a socket or
 * a timer left open does not keep the process). A thrown error is printed as one line,
 * `name: message [code]`, without a stack: {@link UsageError} and `parseArgs` errors exit
 * with 2 (and point at `--help`), others with `exitCodeOf(err)` or 1.
 */
export function runCli(name: string, main: () => Promise<number>, options: RunCliOptions = {}): void {
  const exit = (code: number) => {
    process.exitCode = code
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
  }
  main().then(exit, (err: unknown) => {
    const usage = err instanceof UsageError || isParseArgsError(err)
    const message = err instanceof Error ? err.message : String(err)
    const code = isWsError(err) ? ` [${err.code}]` : ''
    process.stderr.write(`${name}: ${message}${code}${usage ? ` (see ${name} --help)` : ''}\n`)
    exit(usage ? EXIT_CODES.usage : (options.exitCodeOf?.(err) ?? EXIT_CODES.failure))
  })
}
