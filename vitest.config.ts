import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * Tests import workspace packages by name (`@ws/core`, `@ws/core/testing`) and run against
 * their sources, so a test never depends on a stale build. Each `exports` key maps to
 * `src/<name>.ts` or `src/<name>/index.ts` (`.` is `index`), the same entries tsup builds.
 */
function workspaceAliases() {
  const aliases: { find: RegExp; replacement: string }[] = []
  for (const root of ['packages', 'examples']) {
    if (!existsSync(root)) continue
    for (const dir of readdirSync(root)) {
      const pkgFile = join(root, dir, 'package.json')
      if (!existsSync(pkgFile)) continue
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
        name: string
        exports?: Record<string, unknown>
      }
      for (const key of Object.keys(pkg.exports ?? {})) {
        if (!key.startsWith('.') || key.endsWith('.json')) continue
        const name = key === '.' ? 'index' : key.slice(2)
        const candidates = [join(root, dir, 'src', `${name}.ts`), join(root, dir, 'src', name, 'index.ts')]
        const source = candidates.find((c) => existsSync(c))
        if (!source) continue
        const spec = key === '.' ? pkg.name : `${pkg.name}/${name}`
        aliases.push({ find: new RegExp(`^${spec.replace(/[/.]/g, '\\$&')}$`), replacement: resolve(source) })
      }
    }
  }
  return aliases
}

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'examples/*/**/*.test.ts',
      'bench/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    pool: 'forks',
  },
})
