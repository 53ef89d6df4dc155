import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WhisperAddonError } from './errors.js'
import type { NativeAddon } from './native.js'

/** Where the binary came from: a prebuilt platform package, or a build from source on this machine. */
export type BinarySource = 'prebuilt' | 'source'

export interface BinaryInfo {
  source: BinarySource
  /** Directory holding the module, whisper, ggml and the CPU variants. */
  dir: string
  /** The ggml CPU variant's instruction sets, as chosen for this processor at load. */
  features: Record<string, string>
  /** The CPU variant forced at load ({@link LoadAddonOptions.cpuVariant}); undefined: ggml chose. */
  cpuVariant: string | undefined
  /**
   * The CPU variants in `dir` (`haswell`, `skylakex`, `zen4`, … on x86-64; `armv8.0_1`,
   * `armv8.2_2`, `armv8.6_2`, … on arm64), whether or not this processor runs them.
   */
  cpuVariants: string[]
  devices: { name: string; description: string }[]
  /** whisper.cpp's version. */
  version: string
}

export interface LoadAddonOptions {
  /**
   * `auto` (default): the prebuilt binary for this platform, else an earlier source build,
   * else build from source now (CMake and a C++17 compiler; several minutes).
   * `source`: ignore prebuilt binaries (build if not built yet). `never`: fail instead of
   * building. The environment variable `WS_WHISPERCPP_BUILD` (`auto`, `source`, `never`) sets it too.
   */
  build?: 'auto' | 'source' | 'never'
  /** Progress lines of a source build (default: stderr). */
  onProgress?: (line: string) => void
  env?: NodeJS.ProcessEnv
  /**
   * Load this ggml CPU variant (`haswell`, `skylakex`, `icelake`, `zen4`, … on x86-64,
   * `armv8.0_1` … `armv8.6_2` on arm64, as named in {@link BinaryInfo.cpuVariants}) instead of the one ggml scores best for this processor;
   * fails with `no_binary` where the processor lacks its instructions. For tests that check a
   * result on the variants other machines choose (an AVX2-only AMD EPYC loads `haswell`, an
   * AVX-512 one `zen4`). The environment variable `WS_GGML_CPU_VARIANT` sets it too.
   */
  cpuVariant?: string
}

export const DEFAULT_LOAD_ADDON_OPTIONS = { build: 'auto' } as const

const MODULE_FILE = 'whisper_addon.node'
// arm64's names hold the architecture's version: libggml-cpu-armv8.2_1.so
const CPU_VARIANT_FILE = /^(?:lib)?ggml-cpu-([a-z0-9_.]+)\.(?:so|dylib|dll)$/

/** The ggml CPU variants built into `dir`. */
export function listCpuVariants(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .map((f) => CPU_VARIANT_FILE.exec(f)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort()
}
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

/** The npm package holding the prebuilt binary for this platform. */
export function prebuiltPackageName(platform = process.platform, arch = process.arch): string {
  return `@ws/whispercpp-addon-${platform}-${arch}`
}

function prebuiltDir(): string | undefined {
  try {
    const dir = join(dirname(require.resolve(`${prebuiltPackageName()}/package.json`)), 'bin')
    return existsSync(join(dir, MODULE_FILE)) ? dir : undefined
  } catch {
    return undefined
  }
}

/** A source build's output, inside this package. */
export const sourceBuildDir = join(packageRoot, 'build')

let loading: Promise<{ addon: NativeAddon; info: BinaryInfo }> | undefined

/** Loads the native module once per process (later calls share it). */
export function loadAddon(options: LoadAddonOptions = {}): Promise<{ addon: NativeAddon; info: BinaryInfo }> {
  loading ??= load(options).catch((err) => {
    loading = undefined
    throw err
  })
  return loading
}

async function load(options: LoadAddonOptions) {
  const env = options.env ?? process.env
  const mode = options.build ?? (env.WS_WHISPERCPP_BUILD as LoadAddonOptions['build']) ?? 'auto'
  if (!['auto', 'source', 'never'].includes(mode)) {
    throw new WhisperAddonError('invalid_argument', `build must be auto, source or never, got ${mode}`)
  }
  let dir = mode === 'source' ? undefined : prebuiltDir()
  let source: BinarySource = 'prebuilt'
  if (!dir) {
    source = 'source'
    if (existsSync(join(sourceBuildDir, MODULE_FILE))) dir = sourceBuildDir
    else if (mode === 'never') {
      throw new WhisperAddonError(
        'no_binary',
        `No whisper.cpp binary for ${process.platform}-${process.arch}: ${prebuiltPackageName()} is not installed and nothing was built from source (run \`npx ws-whispercpp build\`)`,
      )
    } else dir = await buildFromSource(options.onProgress)
  }
  let addon: NativeAddon
  try {
    addon = require(join(dir, MODULE_FILE)) as NativeAddon
  } catch (err) {
    throw new WhisperAddonError(
      'no_binary',
      `Could not load ${join(dir, MODULE_FILE)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  const cpuVariants = listCpuVariants(dir)
  const cpuVariant = options.cpuVariant ?? (env.WS_GGML_CPU_VARIANT || undefined)
  if (cpuVariant !== undefined && !cpuVariants.includes(cpuVariant)) {
    throw new WhisperAddonError(
      'invalid_argument',
      `cpuVariant must be one of ${cpuVariants.join(', ') || '(none built)'}, got ${cpuVariant}`,
    )
  }
  const { features, devices } = addon.loadBackends(dir, cpuVariant)
  if (!devices.some((d) => d.name.startsWith('CPU'))) {
    throw new WhisperAddonError(
      'no_binary',
      cpuVariant
        ? `The ggml CPU variant ${cpuVariant} does not run on this processor`
        : `No ggml CPU backend in ${dir} suits this processor`,
    )
  }
  return {
    addon,
    info: { source, dir, features, cpuVariant, cpuVariants, devices, version: addon.version },
  }
}

/** Builds the addon from the vendored sources into this package's build/ directory. */
export async function buildFromSource(
  onProgress: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
) {
  const script = join(packageRoot, 'scripts', 'build.mjs')
  const { build } = (await import(pathToFileURL(script).href)) as {
    build: (o: { out: string; log: (l: string) => void }) => Promise<string>
  }
  try {
    return await build({ out: sourceBuildDir, log: onProgress })
  } catch (err) {
    throw new WhisperAddonError(
      'no_binary',
      `Building whisper.cpp from source failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

/** whisper.cpp's tools: the command-line transcriber and the HTTP server. */
export type WhisperTool = 'whisper-cli' | 'whisper-server'

/** Where `ws-whispercpp tools` puts whisper.cpp's tools, inside this package. */
export const toolsDir = join(packageRoot, 'tools')

/** The path of a tool built by {@link buildWhisperTools}, or undefined when not built here. */
export function whisperToolPath(tool: WhisperTool): string | undefined {
  const file = join(toolsDir, process.platform === 'win32' ? `${tool}.exe` : tool)
  return existsSync(file) ? file : undefined
}

/**
 * Builds whisper.cpp's `whisper-cli` and `whisper-server` from this package's sources into
 * {@link toolsDir} (CMake and a C++17 compiler; reuses the addon's build, else several
 * minutes). Resolves with the directory.
 */
export async function buildWhisperTools(
  onProgress: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  const script = join(packageRoot, 'scripts', 'build.mjs')
  const { buildTools } = (await import(pathToFileURL(script).href)) as {
    buildTools: (o: { out: string; log: (l: string) => void }) => Promise<string>
  }
  try {
    return await buildTools({ out: toolsDir, log: onProgress })
  } catch (err) {
    throw new WhisperAddonError(
      'no_binary',
      `Building whisper.cpp's tools failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}
