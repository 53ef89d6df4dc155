import { WsError } from '@ws/core'
import { run } from './run.js'

export interface PythonInfo {
  command: string
  version: [number, number]
}

export interface FindPythonOptions {
  /** Lowest acceptable version (default 3.9). */
  minVersion?: [number, number]
  /** Modules that must import (default: venv and pip). */
  modules?: string[]
  env?: NodeJS.ProcessEnv
}

/**
 * Finds a Python interpreter: `$WS_PYTHON` if set, else the first of python3.13 … python3.9,
 * python3, python that is new enough and has the modules. Throws `setup_failed` naming what
 * was tried.
 */
export async function findPython(options: FindPythonOptions = {}): Promise<PythonInfo> {
  const env = options.env ?? process.env
  const [minMajor, minMinor] = options.minVersion ?? [3, 9]
  const modules = options.modules ?? ['venv', 'pip']
  const candidates = env.WS_PYTHON
    ? [env.WS_PYTHON]
    : ['python3.13', 'python3.12', 'python3.11', 'python3.10', 'python3.9', 'python3', 'python']
  const tried: string[] = []
  for (const command of candidates) {
    const probe = `import sys\n${modules.map((m) => `import ${m}`).join('\n')}\nprint("%d.%d" % sys.version_info[:2])`
    try {
      const { code, output } = await run(command, ['-c', probe], { env })
      const match = /(\d+)\.(\d+)\s*$/.exec(output.trim())
      if (code !== 0 || !match) {
        tried.push(`${command} (${code === 0 ? 'no version' : `lacks ${modules.join('/')}`})`)
        continue
      }
      const version: [number, number] = [Number(match[1]), Number(match[2])]
      if (version[0] < minMajor || (version[0] === minMajor && version[1] < minMinor)) {
        tried.push(`${command} (${version.join('.')} is too old)`)
        continue
      }
      return { command, version }
    } catch {
      tried.push(`${command} (not found)`)
    }
  }
  throw new WsError(
    'setup_failed',
    `No Python ${minMajor}.${minMinor}+ with ${modules.join(' and ')} was found (tried ${tried.join(', ')}); install one (Debian: apt-get install python3 python3-venv) or set WS_PYTHON`,
  )
}
