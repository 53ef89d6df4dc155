// Installs the whisper.cpp backend as a user would and times it against the workspace build:
// the packages packed into tarballs, installed into an empty project with npm or pnpm at their
// default settings (no environment variables, no compiler flags, no approved build scripts),
// then the ten Harvard fixtures transcribed there and in the workspace, same audio, same run.
// Used by tests/install.test.ts and by `pnpm bench`.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** What the whisper.cpp backend needs; `ALL_PACKAGES` is every package of the workspace. */
export const WHISPERCPP_PACKAGES = [
  'core',
  'models',
  'whispercpp-addon',
  'whispercpp-addon-linux-x64',
  // Not installed on x64, but an optional dependency's tarball stands in for the registry too.
  'whispercpp-addon-linux-arm64',
  'backend-whispercpp',
]
export const ALL_PACKAGES = readdirSync(join(ROOT, 'packages')).filter((d) => {
  try {
    return !JSON.parse(readFileSync(join(ROOT, 'packages', d, 'package.json'), 'utf8')).private
  } catch {
    return false
  }
})
const FIXTURES = join(ROOT, 'fixtures/speech')
/** pnpm is the one this repository pins (corepack would otherwise fetch the newest). */
export const ROOT_PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))

/** The user's program: the ten Harvard fixtures, three rounds; the median round's time. */
const PROGRAM = `
import { readFileSync } from 'node:fs'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { loadAddon } from '@ws/whispercpp-addon'
const manifest = JSON.parse(readFileSync(process.argv[2] + '/manifest.json', 'utf8')).filter((f) => f.name.startsWith('harvard-'))
const wav = (name) => {
  const b = readFileSync(process.argv[2] + '/' + name + '.wav')
  return Float32Array.from(new Int16Array(b.buffer, b.byteOffset + 44, (b.length - 44) >> 1), (x) => x / 32768)
}
const backend = new WhisperCppBackend({ beamSize: 1 })
await backend.loadModel('tiny.en')
const texts = []
const times = []
for (let round = 0; round < 3; round++) {
  const t = performance.now()
  for (const f of manifest) {
    const r = await backend.transcribe(wav(f.name), 16000)
    if (round === 0) texts.push(r.text)
  }
  times.push(performance.now() - t)
}
await backend.close()
const { info } = await loadAddon()
console.log(JSON.stringify({ texts, refs: manifest.map((f) => f.text), ms: times.sort((a, b) => a - b)[1], source: info.source, features: info.features }))
`

/** The environment a user has: none of this project's variables or compiler flags. */
export function userEnv() {
  const env = { ...process.env }
  for (const k of Object.keys(env)) {
    if (/^(CFLAGS|CXXFLAGS|LDFLAGS|WS_WHISPERCPP_|npm_|PNPM_|ONNXRUNTIME_|COREPACK_|NODE_PATH$)/i.test(k))
      delete env[k]
  }
  return env
}

/** A workspace package's version, as its tarball is named. */
const version = (p) => JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')).version

/** Packs the packages (built) into a new directory; returns { dir, tarballs: { name: file } }. */
export async function packTarballs(packages = WHISPERCPP_PACKAGES) {
  const dir = mkdtempSync(join(tmpdir(), 'ws-pack-'))
  for (const p of packages)
    await run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(ROOT, 'packages', p) })
  const tarballs = {}
  for (const f of readdirSync(dir)) {
    const name = packages.find((p) => f === `ws-${p}-${version(p)}.tgz`)
    if (name) tarballs[`@ws/${name}`] = join(dir, f)
  }
  if (Object.keys(tarballs).length !== packages.length)
    throw new Error(`packed ${Object.keys(tarballs).join(', ')}`)
  return { dir, tarballs }
}

async function transcribeIn(dir, program, env) {
  writeFileSync(join(dir, 'main.mjs'), program)
  const { stdout, stderr } = await run(process.execPath, ['main.mjs', FIXTURES], {
    cwd: dir,
    env,
    maxBuffer: 1 << 24,
  })
  return { ...JSON.parse(stdout.trim().split('\n').at(-1)), stderr }
}

/** An empty project with the tarballs installed by `manager`; the fixtures transcribed in it. */
export async function installAndTranscribe(manager, tarballs) {
  const dir = mkdtempSync(join(tmpdir(), `ws-install-${manager}-`))
  try {
    const files = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`]))
    // The tarballs stand in for the registry: overrides point every @ws package at them.
    const pkg = {
      name: 'user-project',
      private: true,
      type: 'module',
      // What the README says to install (`@ws/core` is the backend's peer), and the addon.
      dependencies: {
        '@ws/core': files['@ws/core'],
        '@ws/backend-whispercpp': files['@ws/backend-whispercpp'],
        '@ws/whispercpp-addon': files['@ws/whispercpp-addon'],
      },
      ...(manager === 'npm'
        ? { overrides: files }
        : { packageManager: ROOT_PACKAGE.packageManager, pnpm: { overrides: files } }),
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
    const env = userEnv()
    const started = performance.now()
    await run(manager, ['install'], { cwd: dir, env, maxBuffer: 1 << 24 }).catch((err) => {
      throw new Error(`${manager} install failed:\n${err.stdout}\n${err.stderr}`)
    })
    const installSeconds = (performance.now() - started) / 1000
    return { manager, installSeconds, ...(await transcribeIn(dir, PROGRAM, env)) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The same program on the workspace's build. */
export async function transcribeInWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'ws-workspace-run-'))
  try {
    const program = PROGRAM.replace(
      "'@ws/backend-whispercpp'",
      JSON.stringify(join(ROOT, 'packages/backend-whispercpp/dist/index.js')),
    ).replace("'@ws/whispercpp-addon'", JSON.stringify(join(ROOT, 'packages/whispercpp-addon/dist/index.js')))
    return await transcribeIn(dir, program, process.env)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
