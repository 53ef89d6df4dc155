#!/usr/bin/env node
// Builds the addon from source with CMake: the vendored whisper.cpp (fetched first if absent),
// every ggml CPU variant for this architecture, and the Node-API module, then copies the
// binaries into --out (default: this package's build/). The CMake build directory is kept in
// the cache directory, so a second run only rebuilds what changed.
//   node scripts/build.mjs [--out DIR] [--jobs N] [--tools] [--target PLATFORM] [--skip-without-toolchain]
// --tools builds whisper.cpp's whisper-cli and whisper-server instead of the addon.
// --target linux-arm64 cross-compiles for Linux on arm64 from x86-64 Linux (Debian's
// g++-aarch64-linux-gnu, see CROSS); the default is this machine's platform. With
// --skip-without-toolchain, a cross build whose compiler is missing is skipped with a message.
import { execFileSync, spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SOURCE, sync, vendor } from './vendor.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

function has(command) {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** This machine's platform, as the prebuilt packages are named (`linux-x64`). */
export const HOST = `${process.platform}-${process.arch}`

/**
 * The platforms built on another one: a CMake toolchain file in scripts/, the compiler it
 * names, and the Debian package that brings it.
 */
export const CROSS = {
  'linux-arm64': {
    toolchain: 'aarch64-linux-gnu.cmake',
    compiler: 'aarch64-linux-gnu-g++',
    debian: 'g++-aarch64-linux-gnu',
  },
}

/** The build directory of `target` (one per whisper.cpp version and platform). */
export function cacheDir(env = process.env, target = HOST) {
  const base = env.WS_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'whisper-stream')
  return join(base, 'whispercpp-addon', `build-${SOURCE.whisperCpp}-${target}`)
}

/** The cross toolchain for `target`, or undefined for this machine's own; throws when missing. */
function crossToolchain(target) {
  if (target === HOST) return undefined
  const cross = CROSS[target]
  if (!cross || process.platform !== 'linux') {
    throw new Error(
      `Cannot build for ${target} on ${HOST} (this machine's platform, or ${Object.keys(CROSS).join(', ')} from Linux)`,
    )
  }
  if (!has(cross.compiler)) {
    throw new Error(
      `Building for ${target} needs the cross compiler ${cross.compiler} (none found: install Debian's ${cross.debian}, as scripts/setup.sh does as root)`,
    )
  }
  return cross
}

/**
 * CMake ties a build directory to one source path; the sources are copied next to it (only
 * changed files are rewritten), so any checkout or install of this package reuses the build.
 */
function stageSources(dir, cross) {
  const stage = join(dir, 'source')
  sync(join(root, 'src', 'native'), join(stage, 'src', 'native'))
  sync(join(root, 'vendor', 'whisper.cpp'), join(stage, 'vendor', 'whisper.cpp'))
  const files = [['CMakeLists.txt', 'CMakeLists.txt']]
  if (cross) files.push([join('scripts', cross.toolchain), cross.toolchain])
  for (const [from, to] of files) {
    const text = readFileSync(join(root, from))
    const target = join(stage, to)
    if (!existsSync(target) || !readFileSync(target).equals(text)) writeFileSync(target, text)
  }
  return stage
}

/** The files an install needs: the module, whisper, ggml and every CPU variant. */
export function isBinaryFile(name) {
  return name.endsWith('.node') || /^(lib)?(whisper|ggml)[\w.-]*\.(so|dylib|dll)$/.test(name)
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args[0]} … exited with ${code}`)),
    )
  })
}

/** whisper.cpp's tools that `buildTools` makes. */
export const TOOLS = ['whisper-cli', 'whisper-server']

export async function build(options = {}) {
  return compile(['whisper_addon'], { ...options, out: options.out ?? join(root, 'build') })
}

/**
 * Builds whisper.cpp's `whisper-cli` and `whisper-server` from the same sources, into `out`
 * with the libraries and CPU variants they load (default: this package's tools/).
 */
export async function buildTools(options = {}) {
  return compile(TOOLS, { ...options, out: options.out ?? join(root, 'tools') })
}

async function compile(targets, { out, jobs = availableParallelism(), log = console.error, target = HOST }) {
  if (!has('cmake')) {
    throw new Error(
      'Building whisper.cpp from source needs CMake 3.18+ and a C++17 compiler (none found: install cmake and g++ or clang)',
    )
  }
  const cross = crossToolchain(target)
  // The platform packages build at once (turbo): one fetches the sources, the other waits.
  const unlock = await lock(join(root, 'vendor'), log, 'vendor.lock')
  try {
    vendor()
  } finally {
    unlock()
  }
  const release = await lock(cacheDir(process.env, target), log)
  try {
    return await compileLocked(targets, { out, jobs, log, target, cross })
  } finally {
    release()
  }
}

/**
 * One build at a time in the cache directory (two installs, or a test and a release, may ask at
 * once; CMake's build directory is not safe to share): a lock directory holding the owner's
 * pid; a lock whose owner is gone is taken over.
 */
async function lock(dir, log, name = 'build.lock') {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  let told = false
  for (;;) {
    try {
      mkdirSync(path)
      writeFileSync(join(path, 'pid'), String(process.pid))
      return () => rmSync(path, { recursive: true, force: true })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    let owner = Number.NaN
    try {
      owner = Number(readFileSync(join(path, 'pid'), 'utf8'))
    } catch {} // being written or removed: look again
    if (owner && !alive(owner)) rmSync(path, { recursive: true, force: true })
    else {
      if (!told) log(`Waiting for another build of whisper.cpp (${path}${owner ? `, pid ${owner}` : ''})`)
      told = true
      await new Promise((r) => setTimeout(r, 500))
    }
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

async function compileLocked(targets, { out, log, jobs, target, cross }) {
  const dir = join(cacheDir(process.env, target), 'build')
  const stage = stageSources(cacheDir(process.env, target), cross)
  const sources = join(stage, 'vendor', 'whisper.cpp')
  const includes = [
    join(dirname(require.resolve('node-api-headers/package.json')), 'include'),
    dirname(require.resolve('node-addon-api/package.json')),
  ]
  const configure = [
    '-S',
    stage,
    '-B',
    dir,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DWS_VENDOR_DIR=${sources}`,
    `-DNODE_API_INCLUDE_DIRS=${includes.join(';')}`,
  ]
  if (cross) configure.push(`-DCMAKE_TOOLCHAIN_FILE=${join(stage, cross.toolchain)}`)
  if (!existsSync(join(dir, 'CMakeCache.txt')) && has('ninja')) configure.push('-G', 'Ninja')
  log(`Configuring whisper.cpp ${SOURCE.whisperCpp} for ${target} (build directory ${dir})`)
  await run('cmake', configure)
  log(`Compiling with ${jobs} jobs (all CPU variants: several minutes the first time)`)
  await run('cmake', ['--build', dir, '--target', ...targets, '--parallel', String(jobs)])
  const bin = join(dir, 'bin')
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  // The targets, and the shared libraries they load (not another target's module).
  const files = readdirSync(bin).filter(
    (f) => targets.includes(f.replace(/\.(exe|node)$/, '')) || (isBinaryFile(f) && !f.endsWith('.node')),
  )
  for (const f of files) copyFileSync(join(bin, f), join(out, f))
  log(`Built ${files.length} files into ${out}`)
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      jobs: { type: 'string' },
      tools: { type: 'boolean' },
      target: { type: 'string' },
      'skip-without-toolchain': { type: 'boolean' },
    },
  })
  const cross = values.target && values.target !== HOST ? CROSS[values.target] : undefined
  if (values['skip-without-toolchain'] && cross && !has(cross.compiler)) {
    // A machine that only runs the server needs no other platform's addon; a release checks
    // the package holds its binary before publishing (its prepublishOnly).
    console.error(
      `Not building for ${values.target}: no ${cross.compiler} (Debian's ${cross.debian}; scripts/setup.sh installs it for the tests)`,
    )
    process.exit(0)
  }
  await (values.tools ? buildTools : build)({
    out: values.out ? resolve(values.out) : undefined,
    jobs: values.jobs ? Number(values.jobs) : undefined,
    target: values.target,
  })
}
