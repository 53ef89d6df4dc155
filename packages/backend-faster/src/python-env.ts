import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { WsError } from '@ws/core'
import { cacheDir, findPython, type ProgressListener, run } from '@ws/models'
import { REQUIREMENTS_FILE } from './paths.js'

export interface PythonEnvOptions {
  /** The pinned requirements the venv installs (default: faster-whisper's, in this package). */
  requirementsFile?: string
  /** What the venv is for, in its directory's name and the progress messages (default `faster-whisper`). */
  name?: string
  /** Where the venv goes (default: `<cache>/venv/<name>-<hash of requirements>`). */
  venvDir?: string
  /** The Python that creates the venv (default: found on PATH or `$WS_PYTHON`). */
  python?: string
  onProgress?: ProgressListener
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
}

export interface PythonEnv {
  venvDir: string
  python: string
  /** Whether this call created it. */
  created: boolean
}

const MARKER = '.ws-ready'
const LOCK_STALE_MS = 30 * 60_000

function venvPython(venvDir: string): string {
  return process.platform === 'win32'
    ? join(venvDir, 'Scripts', 'python.exe')
    : join(venvDir, 'bin', 'python')
}

/**
 * Makes sure a Python venv with the pinned faster-whisper exists, and returns its
 * interpreter. Idempotent and safe when several processes call it at once (one creates, the
 * others wait). A different requirements file gets a venv of its own.
 */
export async function ensurePythonEnv(options: PythonEnvOptions = {}): Promise<PythonEnv> {
  const env = options.env ?? process.env
  const progress = options.onProgress ?? (() => {})
  const requirementsFile = options.requirementsFile ?? REQUIREMENTS_FILE
  const name = options.name ?? 'faster-whisper'
  const requirements = await readFile(requirementsFile, 'utf8')
  const digest = createHash('sha256').update(requirements).digest('hex').slice(0, 12)
  const venvDir =
    options.venvDir ??
    (options.requirementsFile ? undefined : env.WS_FASTER_VENV) ??
    join(cacheDir(env), 'venv', `${name}-${digest}`)
  const python = venvPython(venvDir)
  const ready = async () =>
    existsSync(python) && (await readFile(join(venvDir, MARKER), 'utf8').catch(() => '')) === digest

  if (await ready()) return { venvDir, python, created: false }
  const lock = `${venvDir}.lock`
  await mkdir(join(venvDir, '..'), { recursive: true })
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch {
      const age =
        Date.now() -
        (await stat(lock)
          .then((s) => s.mtimeMs)
          .catch(() => Date.now()))
      if (age > LOCK_STALE_MS) {
        await rm(lock, { recursive: true, force: true })
        continue
      }
      progress({ stage: 'wait', message: `Waiting for another process to set up ${venvDir}` })
      await sleep(1000, undefined, options.signal ? { signal: options.signal } : undefined)
      if (await ready()) return { venvDir, python, created: false }
    }
  }
  try {
    if (await ready()) return { venvDir, python, created: false }
    const base =
      options.python ?? (await findPython({ env, minVersion: [3, 9], modules: ['venv', 'pip'] })).command
    await rm(venvDir, { recursive: true, force: true })
    progress({ stage: 'venv', message: `Creating a Python environment for ${name} in ${venvDir}` })
    const signal = options.signal ? { signal: options.signal } : {}
    const created = await run(base, ['-m', 'venv', venvDir], signal)
    if (created.code !== 0) {
      throw new WsError(
        'setup_failed',
        `${base} -m venv failed: ${created.output.trim().split('\n').slice(-2).join(' ')}`,
      )
    }
    progress({
      stage: 'install',
      message: `Installing ${name} and its dependencies with pip (a few minutes the first time)`,
    })
    const started = Date.now()
    const heartbeat = setInterval(
      () =>
        progress({
          stage: 'install',
          message: `still installing (${Math.round((Date.now() - started) / 1000)} s)`,
        }),
      10_000,
    )
    try {
      const installed = await run(
        python,
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--progress-bar',
          'off',
          '-r',
          requirementsFile,
        ],
        {
          ...signal,
          onLine: (line) => {
            const l = line.trim()
            if (/^(Collecting|Downloading|Installing collected|Successfully installed)/.test(l)) {
              progress({ stage: 'install', message: l.length > 160 ? `${l.slice(0, 157)}…` : l })
            }
          },
        },
      )
      if (installed.code !== 0) {
        throw new WsError(
          'setup_failed',
          `pip could not install ${name}: ${installed.output.trim().split('\n').slice(-3).join(' ').slice(0, 500)}`,
        )
      }
    } finally {
      clearInterval(heartbeat)
    }
    await writeFile(join(venvDir, MARKER), digest)
    progress({
      stage: 'done',
      message: `${name} is ready (${Math.round((Date.now() - started) / 1000)} s)`,
    })
    return { venvDir, python, created: true }
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}
