import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { concatFloat32, wordErrorRate, writeWav } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_PACKAGES } from '../bench/install.mjs'
import {
  copyWorkspace,
  installFromRegistry,
  registryProject,
  runScript,
  startRegistry,
} from '../bench/registry.mjs'
import { startServer } from '../bench/user-project.mjs'

// The packages published for real and installed from a registry, as users will: a Verdaccio
// (bench/registry.mjs) receives `pnpm release` (turbo build, then `changeset publish`) run in a
// copy of this workspace at its committed versions; then empty projects whose only source of
// @ws packages is that registry install @ws/server with npm, pnpm and yarn 4, and run it, and
// with npm for another platform (`--cpu=arm64`: the linux-arm64 binary arrives).
// Last, a second release (a patch changeset on one package) and `npm update`.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)
const version = (p: string) =>
  JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')).version as string
const VERSION = version('server')
const PATCHED = VERSION.replace(/\d+$/, (n) => String(Number(n) + 1))

// Three real clips (read English, one speaker each) with a pause between: what is transcribed.
const CLIPS = realSpeechFixtures('real-en').slice(0, 3)
const REFERENCE = CLIPS.map((c) => c.text).join(' ')

// The addon as the server loads it: through @ws/server and @ws/backend-whispercpp (pnpm puts no
// transitive dependency at the top of node_modules).
const LOAD_ADDON = `
import { createRequire } from 'node:module'
let req = createRequire(process.cwd() + '/')
for (const name of ['@ws/server', '@ws/backend-whispercpp']) req = createRequire(req.resolve(name))
const { loadAddon } = req('@ws/whispercpp-addon')
console.log(JSON.stringify((await loadAddon({ build: 'never' })).info))
`

type Registry = Awaited<ReturnType<typeof startRegistry>>
type Project = ReturnType<typeof registryProject>
let registry: Registry
let workspace: string
let releaseLog: string
const projects: Partial<Record<'npm' | 'pnpm' | 'yarn', Project>> = {}

beforeAll(async () => {
  registry = await startRegistry()
  workspace = await copyWorkspace()
  releaseLog = await runScript(workspace, registry, 'release')
}, 600_000)
afterAll(async () => {
  await registry?.stop()
  for (const p of [workspace, ...Object.values(projects).map((p) => p.dir)])
    if (p) rmSync(p, { recursive: true, force: true })
})

async function packument(name: string) {
  const res = await fetch(`${registry.url}${name.replace('/', '%2f')}`)
  expect(res.status, name).toBe(200)
  return (await res.json()) as {
    'dist-tags': Record<string, string>
    versions: Record<string, Record<string, Record<string, string> | string>>
  }
}

/** A throwaway npm project on the registry for one check, removed afterwards. */
async function inNpmProject(check: (project: Project) => Promise<void>) {
  const project = registryProject('npm', registry)
  try {
    await check(project)
  } finally {
    rmSync(project.dir, { recursive: true, force: true })
  }
}

async function transcribe(port: number, dir: string) {
  const gap = new Float32Array(8_000)
  const wav = writeWav(concatFloat32(CLIPS.flatMap((c) => [c.audio, gap])), 16_000)
  writeFileSync(join(dir, 'speech.wav'), wav)
  const form = new FormData()
  form.append('file', new Blob([wav], { type: 'audio/wav' }), 'speech.wav')
  form.append('model', 'whisper-1')
  const res = await fetch(`http://127.0.0.1:${port}/v1/audio/transcriptions`, { method: 'POST', body: form })
  expect(res.status).toBe(200)
  return ((await res.json()) as { text: string }).text
}

describe('a release published with pnpm release to a real registry', () => {
  it('publishes every public package at the committed version, internal ranges as semver', async () => {
    expect(releaseLog).toContain('packages published successfully')
    for (const p of ALL_PACKAGES) {
      const doc = await packument(`@ws/${p}`)
      expect(doc['dist-tags'].latest, p).toBe(version(p))
      const manifest = doc.versions[version(p)]!
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
        for (const [name, range] of Object.entries((manifest[field] ?? {}) as Record<string, string>)) {
          if (!name.startsWith('@ws/')) continue
          // Fixed versioning: every @ws range names this very release.
          expect([`^${VERSION}`, VERSION], `${p} ${field} ${name}`).toContain(range)
        }
      }
    }
    // The prebuilt addons are optional dependencies, pinned, chosen by os/cpu/libc.
    const addon = (await packument('@ws/whispercpp-addon')).versions[VERSION]!
    expect(addon.optionalDependencies).toEqual({
      '@ws/whispercpp-addon-linux-arm64': VERSION,
      '@ws/whispercpp-addon-linux-x64': VERSION,
    })
    for (const cpu of ['x64', 'arm64']) {
      const platform = (await packument(`@ws/whispercpp-addon-linux-${cpu}`)).versions[VERSION]!
      expect([platform.os, platform.cpu, platform.libc]).toEqual([['linux'], [cpu], ['glibc']])
    }
  })

  describe.each(['npm', 'pnpm', 'yarn'] as const)('@ws/server installed with %s', (manager) => {
    let project: Project
    let installLog = ''
    beforeAll(async () => {
      project = projects[manager] = registryProject(manager, registry)
      installLog = await installFromRegistry(project, ['@ws/server'])
    }, 600_000)

    it('runs npx ws-server --version, on the prebuilt addon of its platform package (nothing compiled)', async () => {
      const { stdout } = await run('npx', ['ws-server', '--version'], { cwd: project.dir, env: project.env })
      expect(stdout.trim()).toBe(VERSION)
      const { stdout: info } = await run(process.execPath, ['--input-type=module', '-e', LOAD_ADDON], {
        cwd: project.dir,
        env: project.env,
      })
      const addon = JSON.parse(info) as { source: string; features: Record<string, string> }
      expect(addon.source).toBe('prebuilt')
      // With this processor's vector units (a build without them is several times slower).
      expect(addon.features.AVX2 ?? addon.features.NEON ?? '1').toBe('1')
      // No install script ran (npm and yarn print the scripts they run; pnpm lists the ones it
      // skipped), and no build output appeared in the addon's package.
      expect(installLog).not.toMatch(/cmake|node-gyp|Ignored build scripts|postinstall|install script/i)
      expect(existsSync(join(project.dir, 'node_modules/@ws/whispercpp-addon/build'))).toBe(false)
    }, 120_000)

    it('starts, answers /health and transcribes real speech', async () => {
      const server = await startServer(project)
      try {
        const health = await fetch(`http://127.0.0.1:${server.port}/health`)
        expect(health.status).toBe(200)
        const text = await transcribe(server.port, project.dir)
        const { wer } = wordErrorRate(REFERENCE, text)
        console.log(`${manager}: ${(wer * 100).toFixed(1)} % WER: ${text}`)
        // tiny.en on these three clips reads about 5 % (one or two words); wrong audio ~100 %.
        expect(wer).toBeLessThan(0.2)
      } finally {
        await server.stop()
      }
    }, 300_000)
  })

  it('installs @ws/server for linux-arm64 (npm --cpu=arm64 --os=linux): the arm64 binary, no source build', async () => {
    await inNpmProject(async (project) => {
      const log = await installFromRegistry(project, ['@ws/server'], ['--cpu=arm64', '--os=linux'])
      const ws = join(project.dir, 'node_modules/@ws')
      expect(readdirSync(ws)).toContain('whispercpp-addon-linux-arm64')
      expect(readdirSync(ws)).not.toContain('whispercpp-addon-linux-x64')
      // Every file the release built, as arm64 code (ELF e_machine 183, AArch64).
      const bin = join(ws, 'whispercpp-addon-linux-arm64/bin')
      const built = readdirSync(join(ROOT, 'packages/whispercpp-addon-linux-arm64/bin')).sort()
      expect(readdirSync(bin).sort()).toEqual(built)
      expect(built).toEqual(expect.arrayContaining(['whisper_addon.node', 'libggml-cpu-armv8.0_1.so']))
      for (const f of built) expect(readFileSync(join(bin, f)).readUInt16LE(18), f).toBe(183)
      expect(log).not.toMatch(/cmake|node-gyp|postinstall|install script/i)
      expect(existsSync(join(ws, 'whispercpp-addon/build'))).toBe(false)
    })
  }, 300_000)

  it('installs @ws/core alone with nothing else', async () => {
    await inNpmProject(async (project) => {
      await installFromRegistry(project, ['@ws/core'])
      const lock = JSON.parse(readFileSync(join(project.dir, 'package-lock.json'), 'utf8'))
      expect(Object.keys(lock.packages).filter(Boolean)).toEqual(['node_modules/@ws/core'])
    })
  }, 300_000)

  it('falls back to the source build only when the platform package is missing', async () => {
    await inNpmProject(async (project) => {
      await installFromRegistry(project, ['@ws/whispercpp-addon'], ['--omit=optional'])
      expect(readdirSync(join(project.dir, 'node_modules/@ws'))).toEqual(['whispercpp-addon'])
      // With building turned off the load names the source build instead of compiling here.
      const r = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const { loadAddon } = await import('@ws/whispercpp-addon'); await loadAddon({ build: 'never' })",
        ],
        { cwd: project.dir, env: project.env },
      ).catch((err: { code: number; stderr: string }) => err)
      expect('code' in r && r.code).toBe(1)
      expect((r as { stderr: string }).stderr).toContain(
        '@ws/whispercpp-addon-linux-x64 is not installed and nothing was built from source (run `npx ws-whispercpp build`)',
      )
    })
  }, 300_000)

  it('type-checks a consumer of every package under --strict against the installed types', async () => {
    await inNpmProject(async (project) => {
      await installFromRegistry(project, [
        ...ALL_PACKAGES.filter((p) => !p.includes('addon-linux')).map((p) => `@ws/${p}`),
        'typescript@~5.9.3',
        '@types/node@^20.19.0',
        'node-llama-cpp@3.22.1',
      ])
      writeFileSync(join(project.dir, 'consumer.ts'), readFileSync(join(ROOT, 'tests/consumer/consumer.ts')))
      const tsc = join(project.dir, 'node_modules/typescript/bin/tsc')
      await run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--target',
          'es2022',
          '--types',
          'node',
          '--module',
          'node16',
          'consumer.ts',
        ],
        { cwd: project.dir, env: project.env },
      ).catch((err) => {
        throw new Error(`tsc failed:\n${err.stdout}\n${err.stderr}`)
      })
    })
  }, 600_000)

  it('upgrades: a patch changeset on one package, released, moves every package with npm update', async () => {
    const npm = projects.npm
    expect(npm).toBeDefined()
    // The repository's pending changesets went out in the first release (it published the
    // committed versions, whatever they held): the upgrade is this patch alone.
    const pending = join(workspace, '.changeset')
    for (const f of readdirSync(pending)) if (f.endsWith('.md') && f !== 'README.md') rmSync(join(pending, f))
    writeFileSync(
      join(workspace, '.changeset/upgrade-check.md'),
      '---\n"@ws/vad-webrtc": patch\n---\n\nA patch release to check upgrades.\n',
    )
    await runScript(workspace, registry, 'version-packages')
    // Fixed versioning: one changed package moves all of them.
    for (const p of ALL_PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(workspace, 'packages', p, 'package.json'), 'utf8'))
      expect(manifest.version, p).toBe(PATCHED)
    }
    expect(readFileSync(join(workspace, 'packages/vad-webrtc/CHANGELOG.md'), 'utf8')).toContain(
      'A patch release to check upgrades.',
    )
    expect(await runScript(workspace, registry, 'release')).toContain('packages published successfully')
    expect((await packument('@ws/server'))['dist-tags'].latest).toBe(PATCHED)

    await run('npm', ['update'], { cwd: npm!.dir, env: npm!.env })
    const installed = readdirSync(join(npm!.dir, 'node_modules/@ws'))
    expect(installed.length).toBeGreaterThan(5)
    for (const p of installed) {
      const manifest = JSON.parse(readFileSync(join(npm!.dir, 'node_modules/@ws', p, 'package.json'), 'utf8'))
      expect(manifest.version, p).toBe(PATCHED)
    }
    const { stdout } = await run('npx', ['ws-server', '--version'], { cwd: npm!.dir, env: npm!.env })
    expect(stdout.trim()).toBe(PATCHED)
    const server = await startServer(npm!)
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200)
    } finally {
      await server.stop()
    }
  }, 600_000)
})
