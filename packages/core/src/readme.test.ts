import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('README', () => {
  it('its runnable example runs against the built package and prints the final', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code).toBeDefined()
    // Inside the package directory, `@ws/core` resolves to this package's own exports.
    const file = join(root, `.readme-example-${process.pid}.mjs`)
    writeFileSync(file, code!)
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [file])
      expect(stdout).toMatch(/^partial /m)
      expect(stdout).toContain('final hello streaming world')
    } finally {
      rmSync(file, { force: true })
    }
  })
})
