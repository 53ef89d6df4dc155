import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// scripts/changeset-check.mjs on a small repository of its own: one released package, then
// changes after the release with and without a changeset.
const SCRIPT = fileURLToPath(new URL('../scripts/changeset-check.mjs', import.meta.url))
let dir: string
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: dir })
const write = (file: string, text: string) => {
  mkdirSync(dirname(join(dir, file)), { recursive: true })
  writeFileSync(join(dir, file), text)
}
const check = () => spawnSync(process.execPath, [SCRIPT, '--cwd', dir], { encoding: 'utf8' })

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-changeset-check-'))
  git('init', '-q', '-b', 'main')
  write(
    'packages/a/package.json',
    JSON.stringify({ name: '@ws/a', version: '0.1.0', files: ['dist', 'python'] }),
  )
  write('packages/a/src/index.ts', 'export const a = 1\n')
  write('packages/a/src/index.test.ts', 'test\n')
  write('packages/a/python/worker.py', 'pass\n')
  write('packages/a/bench/bench.mjs', '\n')
  write('packages/b/package.json', JSON.stringify({ name: '@ws/b', version: '0.1.0', private: true }))
  write('packages/b/src/index.ts', 'export const b = 1\n')
  write('.changeset/README.md', 'Changesets\n')
  git('add', '-A')
  git('commit', '-q', '-m', 'start')
  write('packages/a/CHANGELOG.md', '# @ws/a\n\n## 0.1.0\n')
  git('add', '-A')
  git('commit', '-q', '-m', 'release')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('changeset check', () => {
  it('passes right after a release', () => {
    expect(check().status).toBe(0)
  })

  it('fails on a source or published file changed since the release with no changeset, naming it', () => {
    for (const file of ['packages/a/src/index.ts', 'packages/a/python/worker.py']) {
      write(file, 'changed\n')
      git('commit', '-qam', 'change')
      const r = check()
      expect(r.status).toBe(1)
      expect(r.stderr).toContain(`@ws/a: ${file}`)
      git('reset', '-q', '--hard', 'HEAD~1')
    }
    // Uncommitted work counts too.
    write('packages/a/src/index.ts', 'changed\n')
    expect(check().status).toBe(1)
  })

  it('passes when a pending changeset names the package', () => {
    write('packages/a/src/index.ts', 'changed\n')
    write('.changeset/fix.md', '---\n"@ws/a": patch\n---\n\nA fix.\n')
    git('add', '-A')
    git('commit', '-q', '-m', 'change')
    expect(check().status).toBe(0)
    // A changeset for another package does not count.
    write('.changeset/fix.md', '---\n"@ws/c": patch\n---\n\nA fix.\n')
    expect(check().status).toBe(1)
  })

  it('ignores tests, files the package does not publish, and private packages', () => {
    write('packages/a/src/index.test.ts', 'changed\n')
    write('packages/a/bench/bench.mjs', 'changed\n')
    write('packages/b/src/index.ts', 'changed\n')
    git('commit', '-qam', 'change')
    expect(check().status).toBe(0)
  })
})
