// A real npm registry on this machine: Verdaccio on a free loopback port with throwaway
// storage. `@ws/*` has no uplink there, so every @ws package a user installs is one that
// `pnpm release` published to it; other packages are not served (users' package managers get
// them from their usual registry, with only the `@ws` scope pointed here). Used by
// tests/registry.test.ts.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ALL_PACKAGES, ROOT_PACKAGE, userEnv } from './install.mjs'
import { freePort } from './user-project.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)
const VERDACCIO = join(ROOT, 'node_modules/verdaccio/bin/verdaccio')

function config(dir) {
  // Verdaccio's own format (YAML; JSON is YAML). No uplinks at all; anyone may read, a logged-in
  // user may publish; bodies as large as the addon's source tarball.
  return JSON.stringify({
    storage: join(dir, 'storage'),
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
    uplinks: {},
    packages: { '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' } },
    max_body_size: '500mb',
    log: { type: 'stdout', format: 'pretty', level: 'warn' },
    web: { enable: false },
  })
}

/**
 * Starts Verdaccio and signs a publisher up. Resolves { url, token, npmrc(scopeOnly), stop() }:
 * `url` ends in '/'; `token` is the publisher's bearer token.
 */
export async function startRegistry({ timeoutMs = 60_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ws-registry-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, config(dir))
  const port = await freePort()
  const child = spawn(process.execPath, [VERDACCIO, '--config', file, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const url = `http://127.0.0.1:${port}/`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited:\n${log}`)
    try {
      if ((await fetch(`${url}-/ping`)).ok) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`verdaccio not up in ${timeoutMs} ms:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: 'release-password', type: 'user' }),
  })
  const { token } = await res.json()
  if (!token) throw new Error(`no token from verdaccio (${res.status})`)
  const hostPath = url.replace(/^http:/, '')
  return {
    url,
    token,
    log: () => log,
    /** The publisher's .npmrc: the whole registry here, with its token. */
    publisherNpmrc: `registry=${url}\n${hostPath}:_authToken=${token}\n`,
    /** A user's .npmrc: only the @ws scope comes from here. */
    userNpmrc: `@ws:registry=${url}\n`,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const GIT = ['-c', 'user.name=release', '-c', 'user.email=release@localhost', '-c', 'commit.gpgsign=false']

/**
 * A copy of the workspace as a release is made from: the root's files, `.changeset`, every
 * publishable package's sources and the examples, installed from the local store, in a git repository
 * of its own so that `changeset publish` tags it as it would tag this one.
 */
export async function copyWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'ws-release-'))
  for (const f of ROOT_FILES) cpSync(join(ROOT, f), join(dir, f), { recursive: true })
  const examples = readdirSync(join(ROOT, 'examples')).map((e) => join('examples', e))
  for (const p of [...ALL_PACKAGES.map((p) => join('packages', p)), ...examples]) {
    const from = join(ROOT, p)
    cpSync(from, join(dir, p), { recursive: true, filter: (src) => src !== join(from, 'node_modules') })
  }
  // Its own install (from the store this one filled), so that the packages link each other at
  // the copy's versions: `pnpm publish` writes the version it finds there for `workspace:`.
  await run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--ignore-scripts'], {
    cwd: dir,
    env: userEnv(),
    maxBuffer: 1 << 24,
  })
  // The build cache as well: a release job with a warm cache restores what did not change
  // (the first release here), and builds what did (every package, after a version bump).
  const cache = join(ROOT, '.turbo', 'cache')
  if (existsSync(cache)) cpSync(cache, join(dir, '.turbo', 'cache'), { recursive: true })
  await run('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  await run('git', ['add', '-A'], { cwd: dir })
  await run('git', [...GIT, 'commit', '-q', '-m', 'release'], { cwd: dir })
  return dir
}
const ROOT_FILES = [
  'package.json',
  '.gitignore',
  'pnpm-workspace.yaml',
  'pnpm-lock.yaml',
  'turbo.json',
  'tsconfig.base.json',
  'tsup.shared.ts',
  'LICENSE',
  '.changeset',
]

/**
 * Runs a root script of the copied workspace (`release`, `version-packages`) as its maintainer
 * would, publishing to `registry`; resolves its output. Commits what it changed.
 */
export async function runScript(dir, registry, script, args = []) {
  const npmrc = join(dir, '.npmrc-publisher')
  writeFileSync(npmrc, registry.publisherNpmrc)
  const env = { ...userEnv(), npm_config_userconfig: npmrc, npm_config_registry: registry.url }
  const out = await run('pnpm', ['run', script, ...args], { cwd: dir, env, maxBuffer: 1 << 26 }).catch(
    (err) => {
      throw new Error(`pnpm ${script} failed:\n${err.stdout}\n${err.stderr}`)
    },
  )
  await run('git', ['add', '-A'], { cwd: dir })
  await run('git', [...GIT, 'commit', '-q', '--allow-empty', '-m', script], { cwd: dir })
  return out.stdout + out.stderr
}

const YARN = join(ROOT, 'node_modules/@yarnpkg/cli-dist/bin/yarn.js')

/**
 * An empty user project for `manager` (npm, pnpm or yarn 4 with the node-modules linker) whose
 * @ws packages come from `registry` alone, everything else from the usual registry; defaults
 * otherwise. yarn 4 holds back versions younger than a day unless a scope is pre-approved, as a
 * user of a private registry would approve theirs.
 */
export function registryProject(manager, registry) {
  const dir = mkdtempSync(join(tmpdir(), `ws-registry-${manager}-`))
  const pkg = { name: 'user-project', private: true, type: 'module' }
  if (manager === 'pnpm') pkg.packageManager = ROOT_PACKAGE.packageManager
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  if (manager === 'yarn') {
    const upstream = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim()
    writeFileSync(
      join(dir, '.yarnrc.yml'),
      [
        'nodeLinker: node-modules',
        `npmRegistryServer: "${upstream.replace(/\/$/, '')}"`,
        `npmScopes: { ws: { npmRegistryServer: "${registry.url}" } }`,
        'unsafeHttpWhitelist: ["127.0.0.1"]',
        'npmPreapprovedPackages: ["@ws/*"]',
        // Its own cache and metadata: another run's registry served the same versions elsewhere.
        `globalFolder: "${join(dir, '.yarn-global')}"`,
        'enableTelemetry: false',
        'enableImmutableInstalls: false',
        '',
      ].join('\n'),
    )
  } else writeFileSync(join(dir, '.npmrc'), registry.userNpmrc)
  return { dir, manager, env: userEnv() }
}

/** `npm install` / `pnpm add` / `yarn add` of `names`; resolves the install's output. */
export async function installFromRegistry(project, names, extra = []) {
  const [cmd, args] = {
    npm: ['npm', ['install', '--foreground-scripts', ...names, ...extra]],
    pnpm: ['pnpm', ['add', ...names, ...extra]],
    yarn: [process.execPath, [YARN, 'add', ...names, ...extra]],
  }[project.manager]
  const { stdout, stderr } = await run(cmd, args, {
    cwd: project.dir,
    env: project.env,
    maxBuffer: 1 << 24,
  }).catch((err) => {
    throw new Error(`${project.manager} add ${names.join(' ')} failed:\n${err.stdout}\n${err.stderr}`)
  })
  return stdout + stderr
}
