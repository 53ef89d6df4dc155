import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// Every command the packages install (their `bin`), run built as users run them: each takes
// --help and --version, and a bad command line exits with 2 and one line on stderr.
const PACKAGES = fileURLToPath(new URL('../packages', import.meta.url))

interface Command {
  name: string
  pkg: string
  version: string
  file: string
}

const commands: Command[] = readdirSync(PACKAGES).flatMap((dir) => {
  const path = join(PACKAGES, dir, 'package.json')
  if (!existsSync(path)) return []
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as {
    name: string
    version: string
    bin?: Record<string, string>
  }
  return Object.entries(pkg.bin ?? {}).map(([name, file]) => ({
    name,
    pkg: pkg.name,
    version: pkg.version,
    file: join(PACKAGES, dir, file),
  }))
})

const run = (c: Command, args: string[]) =>
  spawnSync(process.execPath, [c.file, ...args], { encoding: 'utf8', timeout: 60_000 })

describe('every command', () => {
  beforeAll(() => {
    const missing = [...new Set(commands.filter((c) => !existsSync(c.file)).map((c) => c.pkg))]
    for (const pkg of missing) execFileSync('pnpm', ['--filter', pkg, 'build'], { stdio: 'ignore' })
  }, 600_000)

  it('is found: the five commands the packages install', () => {
    expect(commands.map((c) => c.name).sort()).toEqual([
      'ws-faster-whisper',
      'ws-models',
      'ws-server',
      'ws-transcribe',
      'ws-whispercpp',
    ])
  })

  it.each(commands.map((c) => [c.name, c] as const))('%s: --version, -v and --help', (_, c) => {
    for (const flag of ['--version', '-v']) {
      const r = run(c, [flag])
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe(c.version)
    }
    const help = run(c, ['--help'])
    expect(help.status, help.stderr).toBe(0)
    expect(help.stdout).toContain(`Usage: ${c.name}`)
  })

  it.each(commands.map((c) => [c.name, c] as const))('%s: an unknown flag exits 2 with one line', (_, c) => {
    const r = run(c, ['--no-such-flag'])
    expect(r.status).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^${c.name}: .*no-such-flag`))
  })

  it('a missing or unknown subcommand is bad usage too (exit 2)', () => {
    for (const name of ['ws-models', 'ws-faster-whisper', 'ws-whispercpp']) {
      const c = commands.find((x) => x.name === name)!
      for (const args of [[], ['frobnicate']]) {
        const r = run(c, args)
        expect(r.status, `${name} ${args.join(' ')}: ${r.stderr}`).toBe(2)
      }
    }
  })
})
