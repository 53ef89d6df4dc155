import { spawn } from 'node:child_process'
import { abortError } from '@ws/core'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  /** Each line of output (stdout and stderr), as it comes. */
  onLine?: (line: string) => void
}

export interface RunResult {
  code: number | null
  output: string
}

/** Runs a command to completion, collecting its output (the last 64 kB) and reporting lines. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortError(options.signal, command))
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    })
    let output = ''
    let partial = ''
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      output = (output + text).slice(-65_536)
      if (!options.onLine) return
      const lines = (partial + text).split(/\r?\n|\r/)
      partial = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) options.onLine(line)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', (err) => {
      if (options.signal?.aborted) reject(abortError(options.signal, command))
      else reject(err)
    })
    child.on('close', (code) => {
      if (partial.trim()) options.onLine?.(partial)
      resolve({ code, output })
    })
  })
}
