// Install size and time per configuration, as a new user gets them: every package packed, an
// empty project, npm or pnpm at default settings with an empty cache (so every third-party
// package is downloaded from the registry), then for faster-whisper its Python environment
// made from PyPI with pip's cache off. The @ws packages come from their tarballs.
//
//   node bench/install-size.mjs [--out bench/results/install] [--managers npm,pnpm]
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { ALL_PACKAGES, packTarballs } from './install.mjs'
import { addPackages, createUserProject, runBin } from './user-project.mjs'

const run = promisify(execFile)
const { values } = parseArgs({
  options: { out: { type: 'string' }, managers: { type: 'string', default: 'npm,pnpm' } },
})

const CONFIGURATIONS = [
  { name: 'whisper.cpp + WebRTC VAD (the defaults)', packages: ['@ws/server', '@ws/client'] },
  {
    name: 'faster-whisper + Silero',
    packages: ['@ws/server', '@ws/client', '@ws/backend-faster', '@ws/vad-silero', '@ws/core'],
    venv: true,
  },
]
const MB = (bytes) => Math.round(bytes / 1e6)

async function duBytes(dir) {
  const { stdout } = await run('du', ['-sb', dir])
  return Number(stdout.split('\t')[0])
}

const packed = await packTarballs(ALL_PACKAGES)
const rows = []
try {
  for (const manager of values.managers.split(',')) {
    for (const config of CONFIGURATIONS) {
      const project = createUserProject(manager, packed.tarballs)
      const cache = mkdtempSync(join(tmpdir(), 'ws-empty-cache-'))
      // An empty package cache (npm) or store and metadata cache (pnpm): nothing reused.
      Object.assign(project.env, {
        npm_config_cache: join(cache, 'npm'),
        npm_config_store_dir: join(cache, 'pnpm-store'),
        npm_config_cache_dir: join(cache, 'pnpm-cache'),
      })
      try {
        const step = await addPackages(project, Object.fromEntries(config.packages.map((p) => [p, ''])))
        const row = {
          manager,
          configuration: config.name,
          installSeconds: step.seconds,
          nodeModulesMb: MB(step.bytes),
        }
        if (config.venv) {
          // The faster-whisper environment, made where a new user's would be, from PyPI.
          const env = { ...project.env, WS_CACHE_DIR: join(cache, 'ws'), PIP_NO_CACHE_DIR: '1' }
          const started = performance.now()
          const r = await runBin(
            { ...project, env },
            'ws-faster-whisper',
            ['setup', '--model', 'tiny.en'],
            900_000,
          )
          if (r.code !== 0) throw new Error(`ws-faster-whisper setup failed:\n${r.stderr}`)
          row.venvSeconds = (performance.now() - started) / 1000
          row.venvMb = MB(await duBytes(join(cache, 'ws', 'venv')))
          row.modelMb = MB(await duBytes(join(cache, 'ws', 'models')))
        }
        rows.push(row)
        console.error(JSON.stringify(row))
      } finally {
        rmSync(project.dir, { recursive: true, force: true })
        rmSync(cache, { recursive: true, force: true })
      }
    }
  }
} finally {
  rmSync(packed.dir, { recursive: true, force: true })
}

const machine = `${cpus().length} × ${cpus()[0]?.model}, Node ${process.versions.node}`
const lines = [
  `# Install size and time`,
  '',
  `\`node bench/install-size.mjs\` on ${machine}. Empty package caches; @ws packages from their tarballs, the rest from the registry; default settings, no environment variables.`,
  '',
  '| manager | configuration | install | node_modules | Python environment | its model (tiny.en) |',
  '| --- | --- | ---: | ---: | --- | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.manager} | ${r.configuration} | ${r.installSeconds.toFixed(1)} s | ${r.nodeModulesMb} MB | ${
        r.venvSeconds ? `${r.venvSeconds.toFixed(0)} s, ${r.venvMb} MB` : '–'
      } | ${r.modelMb ? `${r.modelMb} MB` : '–'} |`,
  ),
]
console.log(lines.join('\n'))
if (values.out) {
  mkdirSync(values.out, { recursive: true })
  writeFileSync(join(values.out, 'latest.md'), `${lines.join('\n')}\n`)
  writeFileSync(join(values.out, 'latest.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`)
}
