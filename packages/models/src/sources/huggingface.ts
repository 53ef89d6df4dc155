import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { WsError } from '@ws/core'
import type { ProgressListener } from '../progress.js'

export interface HuggingFaceOptions {
  signal?: AbortSignal
  onProgress?: ProgressListener
  /** `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string
  /** Time allowed to reach the server (default 10 s): an unreachable network fails fast. */
  connectTimeoutMs?: number
  fetch?: typeof fetch
}

/** The files faster-whisper takes from a model repository (its `download_model` patterns). */
export function isCt2ModelFile(name: string): boolean {
  return (
    ['config.json', 'preprocessor_config.json', 'model.bin', 'tokenizer.json'].includes(name) ||
    /^vocabulary\.[a-z]+$/.test(name)
  )
}

function endpointOf(options: HuggingFaceOptions): string {
  return (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
}

/** Lists a repository's files that match `filter`. */
export async function listRepoFiles(
  repo: string,
  filter: (name: string) => boolean,
  options: HuggingFaceOptions = {},
) {
  const doFetch = options.fetch ?? fetch
  const timeout = AbortSignal.timeout(options.connectTimeoutMs ?? 10_000)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const res = await doFetch(`${endpointOf(options)}/api/models/${repo}`, { signal })
  if (!res.ok) throw new WsError('model_not_found', `Hugging Face answered ${res.status} for ${repo}`)
  const info = (await res.json()) as { siblings?: { rfilename: string }[] }
  const files = (info.siblings ?? []).map((s) => s.rfilename).filter(filter)
  if (files.length === 0) throw new WsError('model_not_found', `${repo} has no model files`)
  return files
}

/**
 * Streams a URL into a file, reporting bytes as they come. `connectTimeoutMs` bounds reaching
 * the server, not the download. The file appears only when complete (written aside, renamed).
 */
export async function downloadToFile(
  url: string,
  file: string,
  options: HuggingFaceOptions = {},
): Promise<void> {
  const doFetch = options.fetch ?? fetch
  const connect = new AbortController()
  const timer = setTimeout(
    () => connect.abort(new Error('connect timeout')),
    options.connectTimeoutMs ?? 10_000,
  )
  const res = await doFetch(url, {
    signal: options.signal ? AbortSignal.any([options.signal, connect.signal]) : connect.signal,
  }).finally(() => clearTimeout(timer))
  if (!res.ok || !res.body)
    throw new WsError('model_not_found', `Hugging Face answered ${res.status} for ${url}`)
  const total = Number(res.headers.get('content-length')) || undefined
  const tmp = `${file}.tmp-${process.pid}`
  const out = createWriteStream(tmp)
  let loaded = 0
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      loaded += chunk.byteLength
      if (!out.write(chunk)) await once(out, 'drain')
      options.onProgress?.({
        stage: 'download',
        message: `Downloading ${url}`,
        loadedBytes: loaded,
        ...(total ? { totalBytes: total } : {}),
      })
    }
    out.end()
    await once(out, 'close')
    await rename(tmp, file)
  } catch (err) {
    out.destroy()
    await rm(tmp, { force: true })
    throw err
  }
}

/** Downloads files of a repository into `dir`, reporting progress. */
export async function downloadRepoFiles(
  repo: string,
  files: readonly string[],
  dir: string,
  options: HuggingFaceOptions = {},
) {
  for (const file of files) {
    await downloadToFile(`${endpointOf(options)}/${repo}/resolve/main/${file}`, join(dir, file), options)
  }
}
