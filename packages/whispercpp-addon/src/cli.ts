#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  buildFromSource,
  buildWhisperTools,
  loadAddon,
  prebuiltPackageName,
  whisperToolPath,
} from './binary.js'
import { WhisperAddonError } from './errors.js'

const HELP = `Usage: ws-whispercpp <command>

The whisper.cpp addon of whisper-stream.

Commands:
  info     which binary loads here (prebuilt or source build), the CPU variant ggml chose
           (or WS_GGML_CPU_VARIANT forced), the variants built, and whisper.cpp's version
  build    build the addon from its bundled sources now (CMake and a C++17 compiler;
           several minutes), then use that build (set WS_WHISPERCPP_BUILD=source to
           prefer it over the prebuilt ${prebuiltPackageName()})
  tools    build whisper.cpp's whisper-cli and whisper-server from the same sources (for
           the CLI and server modes of @ws/backend-whispercpp and @ws/backend-openai),
           then print their paths

Options:
  -h, --help       show this help
  -v, --version    show the version

Exit codes: 0 done, 1 failure, 2 bad usage.`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    })
  } catch (err) {
    process.stderr.write(`ws-whispercpp: ${(err as Error).message}\n`)
    return 2
  }
  if (parsed.values.help || parsed.values.version) {
    console.log(parsed.values.help ? HELP : version())
    return 0
  }
  const [command, ...rest] = parsed.positionals
  if (rest.length > 0 || (command !== 'info' && command !== 'build' && command !== 'tools')) {
    process.stderr.write(`ws-whispercpp: expected "info", "build" or "tools"\n${HELP}\n`)
    return 2
  }
  if (command === 'tools') {
    await buildWhisperTools()
    for (const tool of ['whisper-cli', 'whisper-server'] as const) console.log(whisperToolPath(tool))
    return 0
  }
  if (command === 'build') await buildFromSource()
  const { info } = await loadAddon({ build: command === 'build' ? 'source' : 'auto' })
  console.log(JSON.stringify(info, null, 2))
  return 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ws-whispercpp: ${err instanceof WhisperAddonError ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
