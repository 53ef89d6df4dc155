// A user's project made from the packed tarballs: an empty directory, `npm install` or
// `pnpm install` at default settings (no environment variables, no compiler flags, no
// approved build scripts), the tarballs standing in for the registry. Used by
// tests/user-install.test.ts and by bench/install-size.mjs.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT_PACKAGE, userEnv } from './install.mjs'

const run = promisify(execFile)

/** A new empty project for `manager`, with every @ws package pointed at its tarball. */
export function createUserProject(manager, tarballs) {
  const dir = mkdtempSync(join(tmpdir(), `ws-user-${manager}-`))
  const files = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`]))
  const pkg = {
    name: 'user-project',
    private: true,
    type: 'module',
    ...(manager === 'npm'
      ? { overrides: files }
      : { packageManager: ROOT_PACKAGE.packageManager, pnpm: { overrides: files } }),
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  return { dir, manager, files, env: userEnv() }
}

/**
 * Adds dependencies to the project's package.json and runs `npm install` / `pnpm install`:
 * `packages` maps names to ranges; @ws packages come from their tarballs (their range is
 * ignored), the rest from the registry. Returns the seconds it took and the size of
 * node_modules afterwards (bytes, hard links counted once).
 */
export async function addPackages(project, packages) {
  const file = join(project.dir, 'package.json')
  const pkg = JSON.parse(readFileSync(file, 'utf8'))
  pkg.dependencies ??= {}
  for (const [name, range] of Object.entries(packages)) pkg.dependencies[name] = project.files[name] ?? range
  writeFileSync(file, JSON.stringify(pkg, null, 2))
  const started = performance.now()
  // What `pnpm add` does; with CI set, a bare `pnpm install` would refuse to update the lockfile.
  const args = project.manager === 'pnpm' ? ['install', '--no-frozen-lockfile'] : ['install']
  await run(project.manager, args, { cwd: project.dir, env: project.env, maxBuffer: 1 << 24 }).catch(
    (err) => {
      throw new Error(
        `${project.manager} install (${Object.keys(packages).join(', ')}) failed:\n${err.stdout}\n${err.stderr}`,
      )
    },
  )
  const seconds = (performance.now() - started) / 1000
  const { stdout } = await run('du', ['-sb', 'node_modules'], { cwd: project.dir })
  return { seconds, bytes: Number(stdout.split('\t')[0]) }
}

/** The command a user of this manager types to run an installed `bin` (yarn's users: npx too). */
export function binCommand(project, bin, args) {
  return project.manager === 'pnpm' ? ['pnpm', ['exec', bin, ...args]] : ['npx', [bin, ...args]]
}

/** Runs an installed `bin`; resolves { code, stdout, stderr } (a non-zero exit does not throw). */
export async function runBin(project, bin, args, timeoutMs = 120_000) {
  const [cmd, argv] = binCommand(project, bin, args)
  try {
    const { stdout, stderr } = await run(cmd, argv, {
      cwd: project.dir,
      env: project.env,
      timeout: timeoutMs,
      maxBuffer: 1 << 24,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

/** A free TCP port on the loopback address. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Starts the installed `ws-server` with `args` and waits for its "ready" line (at most
 * `timeoutMs`). Returns { port, stderr(), stop() }; stop() sends SIGTERM and waits for exit.
 */
export async function startServer(project, args = [], timeoutMs = 180_000) {
  const port = await freePort()
  const [cmd, argv] = binCommand(project, 'ws-server', ['--port', String(port), ...args])
  // A process group of its own: npx runs the server as its child, and stop() must end both.
  const child = spawn(cmd, argv, {
    cwd: project.dir,
    env: project.env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  let stderr = ''
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
      reject(new Error(`ws-server not ready in ${timeoutMs} ms:\n${stderr}`))
    }, timeoutMs)
    child.stderr.on('data', (d) => {
      stderr += d
      if (stderr.includes('server ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`ws-server exited (${code}) before it was ready:\n${stderr}`))
    })
  })
  return {
    port,
    stderr: () => stderr,
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {} // already gone
      return exited
    },
  }
}

/**
 * The code samples of a Markdown file: every ```js block is a complete program, run as
 * written; ```ts blocks are fragments that show a shape, and ```sh blocks commands.
 */
export function runnableSamples(markdown) {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```/gm)].map((m) => m[1])
}
