import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))

describe('example: stream-session', () => {
  for (const strategy of ['agreement', 'hybrid']) {
    it(`runs with the ${strategy} strategy and prints both finals`, async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [join(here, 'index.mjs'), strategy])
      const finals = stdout.split('\n').filter((l) => l.startsWith('final'))
      expect(finals).toHaveLength(2)
      expect(finals[0]).toContain('"the quick brown fox jumps over the lazy dog"')
      expect(finals[1]).toContain('"and then the fox sleeps"')
      expect(stdout).toContain('speech_start')
      expect(stdout).toMatch(/^partial #1/m)
    })
  }
})
