import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { corpusWordErrorRate } from '@ws/core'
import { loadSpeechFixtures } from '@ws/core/testing'
import { createServer } from '@ws/server'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const FIXTURES = join(here, '../../fixtures/speech')
const [speech] = loadSpeechFixtures(FIXTURES, (f) => f.name === 'harvard-03')

describe('example: transcribe-file', () => {
  it('prints the finals of a file, from a real server', async () => {
    const server = createServer({ port: 0, logger: pino({ level: 'silent' }) })
    await server.listen()
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        join(here, 'index.mjs'),
        join(FIXTURES, 'harvard-03.wav'),
        server.url,
      ])
      const lines = stdout.trim().split('\n')
      expect(lines[0]).toMatch(/^\[\d+\.\d\d–\d+\.\d\d s\] \S/)
      const text = lines.map((l) => l.replace(/^\[[^\]]+\] /, '')).join(' ')
      expect(corpusWordErrorRate([{ reference: speech!.text, hypothesis: text }])).toBeLessThanOrEqual(0.35)
    } finally {
      await server.close()
    }
  }, 120_000)
})
