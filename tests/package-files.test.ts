import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, it } from 'vitest'

// What each package's tarball holds, as npm lists it before publishing: its own LICENSE and
// README, every file its `bin` names and no test; the manifest fields a registry shows; and its type declarations import only what a
// consumer's install brings, so `tsc` compiles without `skipLibCheck`; and they resolve in
// every module resolution TypeScript has, for every entry point (arethetypeswrong).
const PACKAGES = fileURLToPath(new URL('../packages', import.meta.url))
const dirs = readdirSync(PACKAGES).filter((d) => existsSync(join(PACKAGES, d, 'package.json')))

/** A command's exit code and output, whatever the code (npm pack and attw run two at a time). */
async function runOf(command: string, args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, maxBuffer: 64 << 20 })
    return { status: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return {
      status: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    }
  }
}

/**
 * A package with modules (a platform package has binaries only: undefined): what its manifest
 * declares it imports, and its built dist (built when missing).
 */
function modulePackage(dir: string) {
  const cwd = join(PACKAGES, dir)
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as Record<
    'dependencies' | 'peerDependencies' | 'optionalDependencies',
    Record<string, string> | undefined
  > & { name: string; exports?: unknown }
  if (!pkg.exports) return undefined
  const declared = new Set(
    [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies].flatMap((d) => Object.keys(d ?? {})),
  )
  const dist = join(cwd, 'dist')
  if (!existsSync(dist)) execFileSync('pnpm', ['build'], { cwd, stdio: 'ignore' })
  return { cwd, name: pkg.name, declared, dist }
}

/** The package an import specifier names ('@scope/name/sub' → '@scope/name'). */
const packageOf = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!

// The packages' tests run side by side (each waits on npm or attw in a process of its own).
describe.concurrent.each(dirs)('packages/%s', (dir) => {
  it('packs its LICENSE, its README and its commands', async ({ expect }) => {
    const cwd = join(PACKAGES, dir)
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
      private?: boolean
      bin?: Record<string, string>
      engines?: { node?: string }
      exports?: unknown
      sideEffects?: boolean
      repository?: unknown
      homepage?: unknown
      files?: string[]
    }
    const pack = await runOf('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], cwd)
    expect(pack.status, pack.stderr).toBe(0)
    const [listing] = JSON.parse(pack.stdout) as { files: { path: string }[] }[]
    const files = listing!.files.map((f) => f.path)
    expect(files).toContain('LICENSE')
    expect(files).toContain('README.md')
    for (const bin of Object.values(pkg.bin ?? {})) expect(files).toContain(bin.replace(/^\.\//, ''))
    // Every entry of `files` reaches the tarball (the addon's vendored whisper.cpp sources,
    // ignored by git, are what its build from source compiles).
    for (const entry of pkg.files ?? []) {
      expect(
        files.some((f) => f === entry || f.startsWith(`${entry}/`)),
        `${entry} packed`,
      ).toBe(true)
    }
    if (dir === 'whispercpp-addon') {
      expect(files).toContain('vendor/whisper.cpp/CMakeLists.txt')
      expect(files).toContain('vendor/whisper.cpp/src/whisper.cpp')
    }
    expect(pkg.private).not.toBe(true)
    // What a registry shows: the Node it needs, tree-shaking allowed for modules, and no link
    // to a repository or home page while there is no public one.
    expect(pkg.engines?.node).toBe('>=20.19')
    if (pkg.exports) expect(pkg.sideEffects).toBe(false)
    expect([pkg.repository, pkg.homepage]).toEqual([undefined, undefined])
    // No tests or fixtures shipped.
    expect(files.filter((f) => /(^|\/)(tests?|fixtures|__tests__)\/|\.test\.[cm]?[jt]s$/.test(f))).toEqual([])
  }, 60_000)

  it('declares types that import only its own dependencies, typed', ({ expect }) => {
    const p = modulePackage(dir)
    if (!p) return
    const { cwd, declared, dist } = p
    const declarations = readdirSync(dist).filter((f) => /\.d\.c?ts$/.test(f))
    expect(declarations.length).toBeGreaterThan(0)
    for (const file of declarations) {
      const text = readFileSync(join(dist, file), 'utf8')
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
        const name = packageOf(spec!)
        if (name.startsWith('node:') || builtinModules.includes(name)) continue
        const typesPackage = `@types/${name.replace(/^@(.*)\/(.*)$/, '$1__$2')}`
        if (declared.has(typesPackage)) continue
        expect(declared, `${dir}/dist/${file} imports ${spec}`).toContain(name)
        const manifest = JSON.parse(readFileSync(join(cwd, 'node_modules', name, 'package.json'), 'utf8'))
        const typed =
          Boolean(manifest.types ?? manifest.typings) ||
          JSON.stringify(manifest.exports ?? {}).includes('types')
        expect(
          typed,
          `${dir}/dist/${file} imports ${spec}, which ships no types (and ${typesPackage} is not a dependency)`,
        ).toBe(true)
      }
    }
  }, 300_000)

  it('runs code that imports only its own dependencies (what a strict layout such as pnpm’s finds)', ({
    expect,
  }) => {
    const p = modulePackage(dir)
    if (!p) return
    const { name: own, declared, dist } = p
    const modules = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.[cm]?js$/.test(f),
    )
    expect(modules.length).toBeGreaterThan(0)
    for (const file of modules) {
      const text = readFileSync(join(dist, file), 'utf8')
      // Static imports, and import() / require() of a whole literal (not tsup's require('u' + 'rl')).
      const specs = text.matchAll(
        /(?:\bfrom\s*|^import\s*)["']([^"'./][^"']*)["']|\b(?:import|require)\s*\(\s*["']([^"'./][^"']*)["']\s*\)/gm,
      )
      for (const [, a, b] of specs) {
        const spec = (a ?? b)!
        const name = packageOf(spec)
        if (name.startsWith('node:') || builtinModules.includes(name) || name === own) continue
        expect(declared, `${dir}/dist/${file} imports ${spec}`).toContain(name)
      }
    }
  })

  it('resolves types for every entry point in every resolution mode (attw)', async ({ expect }) => {
    const cwd = join(PACKAGES, dir)
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
      name: string
      exports?: unknown
    }
    if (!pkg.exports) return // a platform package: binaries only, no module
    const attw = join(PACKAGES, '..', 'node_modules', '.bin', 'attw')
    // attw exits 1 on any problem; its table says which entry point fails under which resolution
    // (its JSON is cut short when it exits, so the table is what is kept).
    const result = await runOf(attw, ['--pack', '.', '--format', 'table-flipped', '--no-color'], cwd)
    expect(result.stdout).toContain(`"${pkg.name}"`)
    expect(result.status, result.stdout + result.stderr).toBe(0)
  }, 120_000)
})
