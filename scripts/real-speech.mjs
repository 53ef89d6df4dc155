#!/usr/bin/env node
// Real human speech for tests and benchmarks, from Debian packages that carry recordings of
// people with the text they say (fixtures/real/sources.json; fixtures/README.md, "Real
// speech"). Downloads each .deb with `apt-get download` into the cache, checks it against the
// sha256 committed in sources.json, unpacks it with `dpkg -x` into a temporary directory and
// builds, under <cache>/real-speech/ (<cache>: $WS_CACHE_DIR, else
// $XDG_CACHE_HOME/whisper-stream, else ~/.cache/whisper-stream):
//   real-en, real-es      English and Spanish telephone prompts (Asterisk), 16 kHz
//   real-en-8k, real-es-8k the same clips as recorded, 8 kHz (telephone, G.711 paths)
//   real-nl               Dutch voice actors (Fish Fillets NG), 16 kHz
//   real-<lang>-long      the clips joined with pauses: a 30 s and a 2 min stream per language
// each a directory of `<name>.wav` (PCM16 mono) and `manifest.json`, as loadSpeechFixtures
// (@ws/core/testing) reads them. Needs apt-get and dpkg (Debian), and sox (installed with apt
// when missing and run as root). Idempotent: a second run only verifies.
//   node scripts/real-speech.mjs           provision (or verify)
//   node scripts/real-speech.mjs --check   verify only; exit 1 when something is missing
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildAsterisk, buildFillets, buildLong } from './real-speech-corpora.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SOURCES = join(ROOT, 'fixtures/real/sources.json')
/** Bump when the corpora are built differently: every corpus is built again. */
const BUILD = 4

/** Each language's corpora: the 16 kHz clips, the telephone-rate originals, the streams. */
const GROUPS = {
  en: { clips: 'real-en', phone: 'real-en-8k', long: 'real-en-long' },
  es: { clips: 'real-es', phone: 'real-es-8k', long: 'real-es-long' },
  nl: { clips: 'real-nl', long: 'real-nl-long' },
}
export const CORPORA = Object.values(GROUPS).flatMap((g) => Object.values(g))

/** The project's cache directory (as packages/models/src/paths.ts). */
export function cacheDir(env = process.env) {
  if (env.WS_CACHE_DIR) return env.WS_CACHE_DIR
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'whisper-stream')
}
export const realSpeechRoot = (env = process.env) => join(cacheDir(env), 'real-speech')
/** Where a corpus lives (whether or not it is there). */
export const realSpeechDir = (corpus, env = process.env) => join(realSpeechRoot(env), corpus)

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')
const isRoot = () => process.getuid?.() === 0
const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

export function aptUpdate(log) {
  log('apt-get update')
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Downloads one package unless the cache holds it; checks its sha256 either way. */
export function ensureDeb(pkg, debsDir, log, { download = true } = {}) {
  const file = join(debsDir, pkg.file)
  if (existsSync(file) && sha256(file) === pkg.sha256) return file
  if (!download) throw new Error(`${pkg.file} is missing or altered in ${debsDir}`)
  if (!has('apt-get')) throw new Error(`apt-get is needed to download ${pkg.package} (a Debian package)`)
  rmSync(file, { force: true })
  log(`downloading ${pkg.package} ${pkg.version} (${(pkg.size / 1e6).toFixed(1)} MB)`)
  const get = () =>
    spawnSync('apt-get', ['download', `${pkg.package}=${pkg.version}`], { cwd: debsDir, encoding: 'utf8' })
  let r = get()
  if (r.status !== 0 && isRoot()) {
    aptUpdate(log)
    r = get()
  }
  if (r.status !== 0 || !existsSync(file))
    throw new Error(`apt-get download ${pkg.package}=${pkg.version} failed: ${r.stderr.trim()}`)
  const got = sha256(file)
  if (got !== pkg.sha256) {
    rmSync(file, { force: true })
    throw new Error(`${pkg.file}: sha256 ${got}, expected ${pkg.sha256} (fixtures/*/sources.json)`)
  }
  return file
}

export function ensureSox(log) {
  if (has('sox') && has('soxi', [])) return
  if (!has('apt-get') || !isRoot()) throw new Error('sox is needed: apt-get install sox libsox-fmt-base')
  aptUpdate(log)
  log('installing sox (Debian packages sox, libsox-fmt-base)')
  execFileSync('apt-get', ['install', '-y', '-qq', 'sox', 'libsox-fmt-base'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
}

/** Whether a corpus is there, built from these sources by this version, with all its files. */
export function corpusOk(dir, stamp) {
  try {
    if (readFileSync(join(dir, '.stamp'), 'utf8') !== stamp) return false
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
    return manifest.length > 0 && manifest.every((f) => existsSync(join(dir, `${f.name}.wav`)))
  } catch {
    return false
  }
}

const minutes = (manifest) => manifest.reduce((s, f) => s + f.durationSeconds, 0) / 60
const speechMinutes = (manifest) =>
  manifest
    .flatMap((f) => f.segments ?? [{ start: f.speechStart, end: f.speechEnd }])
    .reduce((s, seg) => s + seg.end - seg.start, 0) / 60

/** Clips, minutes of audio and of speech per corpus present. */
export function realSpeechSummary(env = process.env) {
  return CORPORA.filter((c) => existsSync(join(realSpeechDir(c, env), 'manifest.json'))).map((corpus) => {
    const manifest = JSON.parse(readFileSync(join(realSpeechDir(corpus, env), 'manifest.json'), 'utf8'))
    const clips = manifest.reduce((n, f) => n + (f.segments?.length ?? 1), 0)
    return {
      corpus,
      files: manifest.length,
      clips,
      minutes: minutes(manifest),
      speechMinutes: speechMinutes(manifest),
    }
  })
}

/**
 * Downloads, verifies and builds what is missing; verifies what is there. Returns the
 * summary. `check: true` builds nothing and throws when something is missing.
 */
export function provisionRealSpeech({ env = process.env, log = console.log, check = false } = {}) {
  const sources = JSON.parse(readFileSync(SOURCES, 'utf8'))
  const root = realSpeechRoot(env)
  const debsDir = join(root, 'debs')
  mkdirSync(debsDir, { recursive: true })
  const debs = {}
  for (const pkg of sources.packages) debs[pkg.package] = ensureDeb(pkg, debsDir, log, { download: !check })
  log(`real speech: ${sources.packages.length} packages verified (sha256) in ${debsDir}`)
  const stamp = JSON.stringify({ build: BUILD, sources: sources.packages.map((p) => p.sha256) })
  const todo = Object.entries(GROUPS).filter(([, g]) =>
    Object.values(g).some((c) => !corpusOk(join(root, c), stamp)),
  )
  if (todo.length === 0) {
    log(`real speech: ${CORPORA.length} corpora present and complete in ${root}`)
    return realSpeechSummary(env)
  }
  if (check) throw new Error(`real speech corpora missing: ${todo.map(([l]) => l).join(', ')}`)
  ensureSox(log)
  if (!has('dpkg-deb')) throw new Error('dpkg-deb is needed to unpack the packages (Debian)')
  const tmp = mkdtempSync(join(tmpdir(), 'ws-real-speech-'))
  try {
    const unpack = (name) => {
      const dir = join(tmp, name)
      if (!existsSync(dir)) execFileSync('dpkg-deb', ['-x', debs[name], dir])
      return dir
    }
    for (const [language, group] of todo) {
      // Each corpus is built beside its place and moved in whole.
      const dirs = Object.fromEntries(Object.entries(group).map(([k, c]) => [k, join(root, `${c}.partial`)]))
      for (const d of Object.values(dirs)) {
        rmSync(d, { recursive: true, force: true })
        mkdirSync(d, { recursive: true })
      }
      const manifest =
        language === 'nl'
          ? buildFillets(unpack('fillets-ng-data'), unpack('fillets-ng-data-nl'), dirs, log)
          : buildAsterisk(
              language,
              unpack(`asterisk-core-sounds-${language}-wav`),
              unpack(`asterisk-core-sounds-${language}`),
              dirs,
              log,
            )
      buildLong(language, dirs.clips, manifest, dirs.long, log)
      for (const [k, c] of Object.entries(group)) {
        writeFileSync(join(dirs[k], '.stamp'), stamp)
        rmSync(join(root, c), { recursive: true, force: true })
        renameSync(dirs[k], join(root, c))
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const summary = realSpeechSummary(env)
  for (const s of summary)
    log(
      `${s.corpus}: ${s.clips} clips, ${s.minutes.toFixed(1)} min (${s.speechMinutes.toFixed(1)} min of speech)`,
    )
  return summary
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: node scripts/real-speech.mjs [--check]')
    process.exit(0)
  }
  try {
    provisionRealSpeech({ check: args.includes('--check') })
  } catch (err) {
    console.error(`real-speech: ${err instanceof Error ? err.message : err}`)
    process.exit(1)
  }
}
