#!/usr/bin/env node
// Fails when a publishable package changed what its users get since the last release without a
// changeset that names it. "The last release" is the last commit that wrote a CHANGELOG.md
// (`pnpm version-packages`); "what users get" is the package's manifest, README and the files
// it publishes, with their sources (src/, less tests). Run by the test command; `--cwd DIR`
// checks another repository.
//   node scripts/changeset-check.mjs [--cwd DIR]
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { cwd: { type: 'string', default: process.cwd() } } })
const cwd = values.cwd
const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trimEnd()

try {
  git('rev-parse', '--is-inside-work-tree')
} catch {
  console.log('changeset check: not a git repository, nothing to compare')
  process.exit(0)
}

const base = git('log', '-1', '--format=%H', '--', 'packages/*/CHANGELOG.md')
// Committed since the release, and what the work tree changes on top (a developer's run).
const changed = new Set(
  [
    ...(base ? git('diff', '--name-only', `${base}..HEAD`).split('\n') : []),
    ...git('status', '--porcelain', '--untracked-files=all')
      .split('\n')
      .map((l) => l.slice(3).split(' -> ').at(-1)),
  ].filter(Boolean),
)

/** Whether `file` (relative to the package) is part of what the package gives its users. */
function userVisible(file, pkg) {
  if (/(^|\/)(test|tests|__tests__|fixtures)\//.test(file) || /\.test\.[cm]?[jt]sx?$/.test(file)) return false
  if (file === 'package.json' || file === 'README.md' || file.startsWith('src/')) return true
  return (pkg.files ?? []).some((f) => file === f || file.startsWith(`${f.replace(/\/$/, '')}/`))
}

/** The packages each pending changeset names. */
const named = new Set()
const dir = join(cwd, '.changeset')
for (const f of existsSync(dir) ? readdirSync(dir) : []) {
  if (!f.endsWith('.md') || f === 'README.md') continue
  const front = readFileSync(join(dir, f), 'utf8').match(/^---\n([\s\S]*?)\n---/)
  for (const [, name] of front?.[1].matchAll(/^\s*["']?([^"':\s]+)["']?\s*:/gm) ?? []) named.add(name)
}

const missing = []
for (const d of existsSync(join(cwd, 'packages')) ? readdirSync(join(cwd, 'packages')) : []) {
  const manifest = join(cwd, 'packages', d, 'package.json')
  if (!existsSync(manifest)) continue
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'))
  if (pkg.private) continue
  const prefix = `packages/${d}/`
  const files = [...changed].filter((f) => f.startsWith(prefix) && userVisible(f.slice(prefix.length), pkg))
  if (files.length && !named.has(pkg.name)) missing.push({ name: pkg.name, files })
}

if (missing.length) {
  console.error(
    `changeset check: changed since the last release (${base ? base.slice(0, 7) : 'none'}) with no changeset:`,
  )
  for (const { name, files } of missing)
    console.error(`  ${name}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}`)
  console.error('Add one with `pnpm changeset` (patch, minor or major, and a line for the CHANGELOG).')
  process.exit(1)
}
console.log(
  `changeset check: every changed package has a changeset (since ${base ? base.slice(0, 7) : 'the start'})`,
)
