#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { readWavMono, resample, WHISPER_SAMPLE_RATE } from '@ws/core'
import { packageVersion, runCli, UsageError } from '@ws/core/node'
import { progressPrinter, resolveCt2Model } from '@ws/models'
import { FasterWhisperBackend } from './backend.js'
import { ensurePythonEnv } from './python-env.js'

const HELP = `Usage: ws-faster-whisper <command> [options]

faster-whisper for whisper-stream, run in a Python worker process.

Commands:
  setup                    create the Python environment and provision models (idempotent)
  transcribe <file.wav>    transcribe a WAV file and print the text

Options:
  -m, --model <name|path>  model (default tiny.en; setup accepts several)
  -l, --language <code>    language of the speech (default: detect, or "en" for .en models)
      --translate          translate into English (multilingual models)
      --words              print word timestamps
      --json               print the whole result as JSON
      --beam-size <n>      beam size (default 5)
      --offline            skip online model sources (also: WS_OFFLINE=1)
  -h, --help               show this help
  -v, --version            show the version

Environment: WS_MODELS_DIR (model cache), WS_CACHE_DIR, WS_PYTHON (the Python that makes the venv).
Exit codes: 0 done, 1 failure, 2 bad usage.`

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      model: { type: 'string', short: 'm', multiple: true },
      language: { type: 'string', short: 'l' },
      translate: { type: 'boolean' },
      words: { type: 'boolean' },
      json: { type: 'boolean' },
      'beam-size': { type: 'string' },
      offline: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
  const [command, file] = positionals
  if (values.help || values.version) {
    console.log(values.help ? HELP : packageVersion(new URL('../package.json', import.meta.url)))
    return 0
  }
  if (!command) throw new UsageError('give a command: setup or transcribe')
  const models = values.model ?? ['tiny.en']
  const onProgress = progressPrinter()
  const offline = values.offline ? { offline: true } : {}
  switch (command) {
    case 'setup': {
      const env = await ensurePythonEnv({ onProgress })
      console.error(`faster-whisper environment: ${env.venvDir}${env.created ? ' (created)' : ''}`)
      for (const name of models) {
        const model = await resolveCt2Model(name, { onProgress, ...offline })
        console.error(
          `model ${name}: ${model.dir} (${model.source === 'cache' ? 'cached' : model.sourceLabel})`,
        )
      }
      return 0
    }
    case 'transcribe': {
      if (!file) throw new UsageError('transcribe needs a WAV file')
      const wav = readWavMono(await readFile(file))
      const audio =
        wav.sampleRate === WHISPER_SAMPLE_RATE ? wav.samples : resample(wav.samples, wav.sampleRate)
      const beamSize = values['beam-size'] ? Number(values['beam-size']) : undefined
      const backend = new FasterWhisperBackend({ onProgress, ...offline, ...(beamSize ? { beamSize } : {}) })
      try {
        await backend.loadModel(models[0]!)
        const result = await backend.transcribe(audio, WHISPER_SAMPLE_RATE, {
          ...(values.language ? { language: values.language } : {}),
          ...(values.translate ? { task: 'translate' as const } : {}),
          wordTimestamps: Boolean(values.words),
        })
        if (values.json) console.log(JSON.stringify(result, null, 2))
        else if (values.words) {
          for (const w of result.segments.flatMap((s) => s.words ?? [])) {
            console.log(`${w.start.toFixed(2)}\t${w.end.toFixed(2)}\t${w.text}`)
          }
        } else console.log(result.text)
      } finally {
        await backend.close()
      }
      return 0
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

runCli('ws-faster-whisper', main)
