#!/usr/bin/env node
// Audio in which nobody speaks, for tests and benchmarks of what the server makes of it
// (fixtures/non-speech/sources.json): real recordings from Debian packages (music, keyboard,
// breathing, crowd, wind, traffic, machinery, animals, beeps; each clip names its licence) and
// a few made with sox (digital silence, room tone, pink, brown and white noise, 50 and 60 Hz
// hum). Downloads each .deb with `apt-get download` into the cache, checks its sha256, unpacks
// it with `dpkg -x` into a temporary directory and writes <cache>/non-speech/<name>.wav
// (16 kHz mono PCM16, no dither: the silence is digital zero) and manifest.json ({ name,
// category, source, license, synthetic, durationSeconds }). Idempotent: a second run only
// verifies.
//   node scripts/non-speech.mjs           provision (or verify)
//   node scripts/non-speech.mjs --check   verify only; exit 1 when something is missing
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir, corpusOk, ensureDeb, ensureSox } from './real-speech.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SOURCES = join(ROOT, 'fixtures/non-speech/sources.json')
/** Bump when the set is built differently: it is built again. */
const BUILD = 2
const SOX_OUT = ['-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer']

export const nonSpeechDir = (env = process.env) => join(cacheDir(env), 'non-speech')

/**
 * The sounds of OpenTTD's sound catalogue (opensfx.cat): a table of (offset, size) pairs, each
 * entry a name (which carries the sound's author and licence) and a RIFF WAV file.
 */
export function readSoundCatalogue(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = (view.getUint32(0, true) & 0x7fffffff) / 8
  const sounds = []
  for (let i = 0; i < count; i++) {
    const offset = view.getUint32(i * 8, true) & 0x7fffffff
    const size = view.getUint32(i * 8 + 4, true)
    const nameLength = bytes[offset]
    const name = Buffer.from(bytes.subarray(offset + 1, offset + 1 + nameLength))
      .toString('latin1')
      .replace(/\0+$/, '')
    const wav = bytes.subarray(offset + 1 + nameLength, offset + size)
    sounds.push({
      index: i,
      name,
      wav: Buffer.from(wav).toString('latin1', 0, 4) === 'RIFF' ? wav : undefined,
    })
  }
  return sounds
}

/** The licence a catalogue entry's name states ("License: Creative Commons Zero 1.0."). */
export function licenceOf(name) {
  const m = /License: ([^.]+(?:\.\d[^.]*)?)\./.exec(name)
  if (!m) return undefined
  return m[1]
    .replace(/^Creative Commons Zero 1\.0$/, 'CC0-1.0')
    .replace(/^Creative Commons Attribution-ShareAlike 3\.0( Unported)?$/, 'CC-BY-SA-3.0')
    .replace(/^Creative Commons Attribution 3\.0( Unported)?$/, 'CC-BY-3.0')
}

const sox = (args) => execFileSync('sox', ['-D', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
const seconds = (file) => Number(execFileSync('soxi', ['-D', file], { encoding: 'utf8' }).trim())

/** One clip from a package, 16 kHz mono: trimmed, or repeated with the gaps given. */
function buildClip(clip, input, out, tmp) {
  if (clip.repeat) {
    const one = join(tmp, `${clip.name}-one.wav`)
    sox([input, ...SOX_OUT, one])
    const parts = []
    for (let i = 0; i < clip.repeat; i++) {
      const gap = clip.gapSeconds[i % clip.gapSeconds.length]
      const silence = join(tmp, `${clip.name}-gap-${i}.wav`)
      sox(['-n', ...SOX_OUT, silence, 'trim', '0', String(gap)])
      parts.push(one, silence)
    }
    sox([...parts, out])
    return
  }
  sox([input, ...SOX_OUT, out, ...(clip.trim ? ['trim', String(clip.trim[0]), String(clip.trim[1])] : [])])
}

/** Downloads, verifies and builds the set when missing; returns its manifest. */
export function provisionNonSpeech({ env = process.env, log = console.log, check = false } = {}) {
  const sources = JSON.parse(readFileSync(SOURCES, 'utf8'))
  const dir = nonSpeechDir(env)
  const debsDir = join(cacheDir(env), 'real-speech', 'debs')
  mkdirSync(debsDir, { recursive: true })
  const debs = {}
  for (const pkg of sources.packages) debs[pkg.package] = ensureDeb(pkg, debsDir, log, { download: !check })
  const stamp = JSON.stringify({ build: BUILD, sources })
  if (corpusOk(dir, stamp)) {
    log(`non-speech: ${sources.clips.length + sources.synthetic.length} clips present in ${dir}`)
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  }
  if (check) throw new Error(`the non-speech set is missing or out of date in ${dir}`)
  ensureSox(log)
  const tmp = mkdtempSync(join(tmpdir(), 'ws-non-speech-'))
  const partial = `${dir}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  try {
    const unpacked = {}
    const unpack = (name) => {
      unpacked[name] ??= join(tmp, name)
      if (!existsSync(unpacked[name])) execFileSync('dpkg-deb', ['-x', debs[name], unpacked[name]])
      return unpacked[name]
    }
    const byPackage = Object.fromEntries(sources.packages.map((p) => [p.package, p]))
    let catalogue
    const manifest = []
    for (const clip of sources.clips) {
      const root = unpack(clip.package)
      const out = join(partial, `${clip.name}.wav`)
      let license = byPackage[clip.package].license
      let source = `${clip.package} ${byPackage[clip.package].version}: ${clip.path ?? ''}`
      if (clip.sound !== undefined) {
        catalogue ??= readSoundCatalogue(
          readFileSync(join(root, 'usr/share/games/openttd/baseset/opensfx/opensfx.cat')),
        )
        const sound = catalogue[clip.sound]
        if (!sound?.wav) throw new Error(`opensfx.cat has no sound ${clip.sound}`)
        license = licenceOf(sound.name) ?? license
        source = `${clip.package} ${byPackage[clip.package].version}: opensfx.cat #${clip.sound}, ${sound.name.replace(/ License:.*$/, '')}`
        const wav = join(tmp, `${clip.name}-source.wav`)
        writeFileSync(wav, sound.wav)
        buildClip(clip, wav, out, tmp)
      } else buildClip(clip, join(root, clip.path), out, tmp)
      manifest.push({
        name: clip.name,
        category: clip.category,
        source,
        license,
        synthetic: false,
        durationSeconds: seconds(out),
      })
    }
    for (const s of sources.synthetic) {
      const out = join(partial, `${s.name}.wav`)
      sox(['-n', ...SOX_OUT, out, ...s.sox])
      manifest.push({
        name: s.name,
        category: s.category,
        source: `sox ${s.sox.join(' ')}`,
        license: 'none (generated)',
        synthetic: true,
        durationSeconds: seconds(out),
      })
    }
    writeFileSync(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    writeFileSync(join(partial, '.stamp'), stamp)
    rmSync(dir, { recursive: true, force: true })
    renameSync(partial, dir)
    const total = manifest.reduce((a, f) => a + f.durationSeconds, 0)
    log(`non-speech: ${manifest.length} clips, ${(total / 60).toFixed(1)} min, in ${dir}`)
    return manifest
  } finally {
    rmSync(tmp, { recursive: true, force: true })
    rmSync(partial, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: node scripts/non-speech.mjs [--check]')
    process.exit(0)
  }
  try {
    provisionNonSpeech({ check: args.includes('--check') })
  } catch (err) {
    console.error(`non-speech: ${err instanceof Error ? err.message : err}`)
    process.exit(1)
  }
}
