import { existsSync, statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { WsError } from '@ws/core'
import { convertCt2ToGgml } from './convert/ggml.js'
import { checkGgmlFile, type GgmlFileInfo } from './convert/ggml-check.js'
import { parseQuantizedName, type Quantization, quantizeGgml } from './convert/quantize.js'
import { modelsDir as defaultModelsDir } from './paths.js'
import { modelSpec, type ResolveModelOptions, resolveCt2Model } from './provision.js'
import { downloadToFile } from './sources/huggingface.js'

export interface ResolvedGgmlModel {
  name: string
  /** The ggml file. */
  file: string
  source: 'path' | 'cache' | 'huggingface' | 'converted'
  sourceLabel: string
  /** What checkGgmlFile found in the file. */
  info: GgmlFileInfo
}

/** The official whisper.cpp model repository. */
export const WHISPER_CPP_REPO = 'ggerganov/whisper.cpp'

/**
 * Resolves a model name or a ggml file path to a whisper.cpp model file. Sources, in order:
 * an explicit path; the cache (`<modelsDir>/ggml/ggml-<name>.bin`); the official ggml file
 * from the whisper.cpp repository on Hugging Face (skipped offline, failing fast); and, as
 * the offline fallback, conversion of the CTranslate2 model (see resolveCt2Model). A quantized
 * name (`base-q5_1`, `tiny.en-q8_0`; see {@link QUANTIZATIONS}) is made here from the float16
 * model, as whisper.cpp's `quantize` tool makes it, and cached beside it. Every file is checked
 * (checkGgmlFile) before it is returned.
 */
export async function resolveGgmlModel(
  nameOrPath: string,
  options: ResolveModelOptions = {},
): Promise<ResolvedGgmlModel> {
  const env = options.env ?? process.env
  const progress = options.onProgress ?? (() => {})
  if (nameOrPath.endsWith('.bin') || (existsSync(nameOrPath) && statSync(nameOrPath).isFile())) {
    const file = resolve(nameOrPath)
    return { name: nameOrPath, file, source: 'path', sourceLabel: file, info: await checkGgmlFile(file) }
  }
  const quantized = parseQuantizedName(nameOrPath)
  if (quantized) return resolveQuantized(quantized.base, quantized.quantization, options)
  const spec = modelSpec(nameOrPath)
  const dir = join(options.modelsDir ?? defaultModelsDir(env), 'ggml')
  const file = join(dir, `ggml-${spec.name}.bin`)
  if (existsSync(file)) {
    try {
      return { name: spec.name, file, source: 'cache', sourceLabel: file, info: await checkGgmlFile(file) }
    } catch {
      await rm(file, { force: true }) // damaged: provision again
    }
  }
  await mkdir(dir, { recursive: true })
  const tried: string[] = []
  const offline = options.offline ?? (env.WS_OFFLINE === '1' || env.HF_HUB_OFFLINE === '1')
  if (!offline) {
    const endpoint = (options.hfEndpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
    const url = `${endpoint}/${WHISPER_CPP_REPO}/resolve/main/ggml-${spec.name}.bin`
    try {
      progress({
        stage: 'resolve',
        message: `Looking for ggml-${spec.name}.bin at Hugging Face ${WHISPER_CPP_REPO}`,
      })
      await downloadToFile(url, file, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      })
      return {
        name: spec.name,
        file,
        source: 'huggingface',
        sourceLabel: url,
        info: await checkGgmlFile(file),
      }
    } catch (err) {
      if (options.signal?.aborted) throw err
      await rm(file, { force: true })
      const reason =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message
      tried.push(`Hugging Face ${WHISPER_CPP_REPO} (${reason})`)
      progress({
        stage: 'resolve',
        message: `The official ggml file is not reachable (${reason}); converting the CTranslate2 model`,
      })
    }
  }
  try {
    const ct2 = await resolveCt2Model(spec.name, options)
    const result = await convertCt2ToGgml(ct2.dir, file, {
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    return {
      name: spec.name,
      file,
      source: 'converted',
      sourceLabel: `converted from ${ct2.sourceLabel}`,
      info: await checkGgmlFile(result.file),
    }
  } catch (err) {
    if (options.signal?.aborted) throw err
    tried.push(`conversion from CTranslate2 (${(err as Error).message})`)
  }
  throw new WsError(
    'model_not_found',
    `Could not provision the ggml model "${spec.name}". Tried: ${tried.join('; ')}`,
    {
      retryable: true,
    },
  )
}

/** `<base>-<quantization>`: from the cache, or quantized from the float16 model (provisioned first). */
async function resolveQuantized(
  base: string,
  quantization: Quantization,
  options: ResolveModelOptions,
): Promise<ResolvedGgmlModel> {
  const spec = modelSpec(base)
  const name = `${spec.name}-${quantization}`
  const dir = join(options.modelsDir ?? defaultModelsDir(options.env ?? process.env), 'ggml')
  const file = join(dir, `ggml-${name}.bin`)
  if (existsSync(file)) {
    try {
      return { name, file, source: 'cache', sourceLabel: file, info: await checkGgmlFile(file) }
    } catch {
      await rm(file, { force: true }) // damaged: make it again
    }
  }
  const f16 = await resolveGgmlModel(spec.name, options)
  options.onProgress?.({ stage: 'convert', message: `Quantizing ${spec.name} to ${quantization}` })
  await quantizeGgml(f16.file, file, quantization, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return {
    name,
    file,
    source: 'converted',
    sourceLabel: `quantized to ${quantization} from ${f16.sourceLabel}`,
    info: await checkGgmlFile(file),
  }
}
