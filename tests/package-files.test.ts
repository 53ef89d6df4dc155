import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// What each package's tarball holds, as npm lists it before publishing: its own LICENSE and
// README, and every file its `bin` names.
const PACKAGES = fileURLToPath(new URL('../packages', import.meta.url))
const dirs = readdirSync(PACKAGES).filter((d) => existsSync(join(PACKAGES, d, 'package.json')))

describe.each(dirs)('packages/%s', (dir) => {
  it('packs its LICENSE, its README and its commands', () => {
    const cwd = join(PACKAGES, dir)
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
      private?: boolean
      bin?: Record<string, string>
    }
    const [listing] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd, encoding: 'utf8' }),
    ) as { files: { path: string }[] }[]
    const files = listing!.files.map((f) => f.path)
    expect(files).toContain('LICENSE')
    expect(files).toContain('README.md')
    for (const bin of Object.values(pkg.bin ?? {})) expect(files).toContain(bin.replace(/^\.\//, ''))
    expect(pkg.private).not.toBe(true)
  }, 60_000)
})
