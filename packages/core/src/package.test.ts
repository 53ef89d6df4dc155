import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

// The built package, as users get it: ESM and CJS entries side by side, with types.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

describe('the built @ws/core package', () => {
  it('has no runtime dependencies', () => {
    expect(pkg.dependencies).toBeUndefined()
    expect(pkg.peerDependencies).toBeUndefined()
  })

  it('exports ESM, CJS and declarations for every entry', () => {
    for (const [key, entry] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (key === './package.json') continue
      const e = entry as { import: Record<string, string>; require: Record<string, string> }
      for (const file of [e.import.types, e.import.default, e.require.types, e.require.default]) {
        expect(existsSync(join(root, file!)), `${key}: ${file} (run the build first)`).toBe(true)
      }
    }
  })

  it('loads as ESM and as CJS, and the two copies recognise each other’s errors', async () => {
    const esm = await import(pathToFileURL(join(root, 'dist/index.js')).href)
    const cjs = createRequire(import.meta.url)(join(root, 'dist/index.cjs'))
    expect(typeof esm.StreamingSession).toBe('function')
    expect(typeof cjs.StreamingSession).toBe('function')
    expect(esm.WsError).not.toBe(cjs.WsError)
    const fromCjs = new cjs.WsError('server_busy', 'full')
    expect(fromCjs instanceof esm.WsError).toBe(true)
    expect(esm.isWsError(fromCjs, 'server_busy')).toBe(true)
    const testing = await import(pathToFileURL(join(root, 'dist/testing.js')).href)
    expect(typeof testing.backendConformance).toBe('function')
    expect(typeof createRequire(import.meta.url)(join(root, 'dist/testing.cjs')).vadConformance).toBe(
      'function',
    )
  })
})
