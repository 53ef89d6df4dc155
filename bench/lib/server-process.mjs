// The server in a child process (packages/server/dist/cli.js) and its CPU and memory from /proc.
import { spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SERVER_CLI = `${ROOT}packages/server/dist/cli.js`

/** CPU seconds (user + system, own and waited-for children) and memory of a process, from /proc. */
export function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const ticks = Number(stat[11]) + Number(stat[12]) + Number(stat[13]) + Number(stat[14])
    const mb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024
    return { cpuSeconds: ticks / 100, peakRssMb: mb('VmHWM'), rssMb: mb('VmRSS') }
  } catch {
    return { cpuSeconds: 0, peakRssMb: 0, rssMb: 0 }
  }
}

/** The pids of a process's children (e.g. the faster-whisper worker). */
export function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

/**
 * Starts `ws-server` with `args` (after `--port 0 --no-demo`); resolves once it listens, with
 * its streaming URL (`ws://…`), HTTP URL, pid, CPU and memory (`stats`) and `stop` (SIGTERM).
 * With `serverLog` its log (debug level) is appended to that file, otherwise it logs warnings
 * only, to nowhere. `cli`: another build's server (a checkout of an earlier commit, for a
 * before-and-after run).
 */
export async function spawnServer(args, { serverLog, cli = SERVER_CLI } = {}) {
  const child = spawn(process.execPath, [cli, '--port', '0', '--no-demo', ...args], {
    env: { ...process.env, LOG_LEVEL: serverLog ? 'debug' : 'warn' },
    stdio: ['ignore', serverLog ? openSync(serverLog, 'a') : 'ignore', 'pipe'],
  })
  let stderr = ''
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString()
      const m = /streaming\s+(wss?:\/\/[^/\s]+)/.exec(stderr)
      if (m) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.slice(-500)}`)))
  })
  return {
    url,
    http: url.replace(/^ws/, 'http'),
    pid: child.pid,
    stats: () => {
      const own = procStat(child.pid)
      const workers = children(child.pid).map(procStat)
      return {
        cpuSeconds: own.cpuSeconds + workers.reduce((a, w) => a + w.cpuSeconds, 0),
        serverRssMb: own.peakRssMb,
        workerRssMb: workers.reduce((a, w) => Math.max(a, w.peakRssMb), 0),
      }
    },
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

/**
 * Starts the server with this backend for the streaming benchmark (64 clients, admission
 * relaxed: the benchmark measures, the server does not refuse); `extra` flags go last.
 * `reviseMs` is its `--revise-max-ms`.
 */
export function startServer(backend, extra = [], { reviseMs = 28000, serverLog, cli } = {}) {
  return spawnServer(
    [
      '--backend',
      backend,
      '--max-clients',
      '64',
      '--max-load',
      '8',
      '--revise-max-ms',
      String(reviseMs),
      ...extra,
    ],
    { serverLog, cli },
  )
}
