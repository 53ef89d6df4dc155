// Builds the real-speech corpora from the unpacked Debian packages (see real-speech.mjs): picks
// the clips, converts them with sox to 16 kHz mono PCM16, measures where the speech lies and
// writes each directory in the format of loadSpeechFixtures (@ws/core/testing).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

export const SAMPLE_RATE = 16_000
/** Clips per corpus, and the speech length a clip must have (seconds). */
export const CLIPS = 80
export const MIN_SPEECH = 1.5
export const MAX_SPEECH = 25
/** Long-form streams: silence before the first clip and after the last, and the pauses. */
const LEAD = 0.5
const TRAIL = 1.5
const GAP_MIN = 0.3
const GAP_MAX = 2.5
/** Audio kept around each clip's measured speech when it is put into a stream. */
const MARGIN = 0.1
export const STREAMS = [
  { name: 'stream-30s', seconds: 30 },
  { name: 'stream-2min', seconds: 120 },
]

const round = (x) => Math.round(x * 10_000) / 10_000
const sha = (s) => createHash('sha256').update(s).digest('hex')
/** A deterministic order: by the hash of the name (a spread over the whole set, not its start). */
const shuffled = (items, key) => [...items].sort((a, b) => (sha(key(a)) < sha(key(b)) ? -1 : 1))

// ---- audio -------------------------------------------------------------------------------

/** Duration in seconds of each file, by soxi, many files a call. */
function durations(files) {
  const out = []
  for (let i = 0; i < files.length; i += 200) {
    const text = execFileSync('soxi', ['-D', ...files.slice(i, i + 200)], { encoding: 'utf8' })
    out.push(...text.trim().split('\n').map(Number))
  }
  return out
}

/** Any audio file sox reads → 16 kHz mono PCM16 WAV (no dither: the same sox gives the same file). */
function toWav16k(input, output) {
  execFileSync('sox', [
    '-D',
    '-V1',
    input,
    '-r',
    String(SAMPLE_RATE),
    '-c',
    '1',
    '-b',
    '16',
    '-e',
    'signed-integer',
    output,
  ])
}

/** Reads a PCM16 mono WAV: { sampleRate, samples: Int16Array }. */
export function readPcm16(file) {
  const buf = readFileSync(file)
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${file}: not a WAV file`)
  let sampleRate = 0
  for (let at = 12; at + 8 <= buf.length; ) {
    const id = buf.toString('ascii', at, at + 4)
    const size = buf.readUInt32LE(at + 4)
    if (id === 'fmt ') {
      const [format, channels, bits] = [
        buf.readUInt16LE(at + 8),
        buf.readUInt16LE(at + 10),
        buf.readUInt16LE(at + 22),
      ]
      if ((format !== 1 && format !== 0xfffe) || channels !== 1 || bits !== 16)
        throw new Error(`${file}: not PCM16 mono`)
      sampleRate = buf.readUInt32LE(at + 12)
    } else if (id === 'data') {
      const bytes = buf.subarray(at + 8, at + 8 + Math.min(size, buf.length - at - 8))
      const samples = new Int16Array(bytes.length >> 1)
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2)
      return { sampleRate, samples }
    }
    at += 8 + size + (size & 1)
  }
  throw new Error(`${file}: no data chunk`)
}

function writePcm16(file, samples, sampleRate = SAMPLE_RATE) {
  const buf = Buffer.alloc(44 + samples.length * 2)
  buf.write('RIFF', 0, 'ascii')
  buf.writeUInt32LE(36 + samples.length * 2, 4)
  buf.write('WAVEfmt ', 8, 'ascii')
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20)
  buf.writeUInt16LE(1, 22)
  buf.writeUInt32LE(sampleRate, 24)
  buf.writeUInt32LE(sampleRate * 2, 28)
  buf.writeUInt16LE(2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36, 'ascii')
  buf.writeUInt32LE(samples.length * 2, 40)
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i], 44 + i * 2)
  writeFileSync(file, buf)
}

/**
 * Where speech starts and ends, by energy: 10 ms frames, a frame is loud when it is within
 * 40 dB of the loudest frame and 12 dB above the noise floor (the 2nd percentile); speech runs
 * from the first three loud frames in a row to the last three.
 */
export function speechBounds(samples, sampleRate) {
  const hop = Math.round(sampleRate / 100)
  const db = []
  for (let at = 0; at + hop <= samples.length; at += hop) {
    let sum = 0
    for (let i = at; i < at + hop; i++) sum += (samples[i] / 32768) ** 2
    db.push(10 * Math.log10(sum / hop + 1e-12))
  }
  const sorted = [...db].sort((a, b) => a - b)
  const floor = sorted[Math.floor(sorted.length * 0.02)] ?? -120
  const threshold = Math.max(sorted[sorted.length - 1] - 40, floor + 12)
  const loud = db.map((d) => d >= threshold)
  const run = (i) => loud[i] && loud[i + 1] && loud[i + 2]
  let first = loud.findIndex((_, i) => run(i))
  let last = -1
  for (let i = loud.length - 3; i >= 0 && last < 0; i--) if (run(i)) last = i + 2
  if (first < 0) [first, last] = [0, loud.length - 1]
  return {
    start: round((first * hop) / sampleRate),
    end: round(Math.min(((last + 1) * hop) / sampleRate, samples.length / sampleRate)),
  }
}

// ---- sources -----------------------------------------------------------------------------

/** Clip texts fit to compare: real words, no notes about sounds, no symbols said as words. */
export function cleanText(text) {
  return text
    .replace(/\[[^\]]*\]|<[^>]*>|\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}
const hasNotes = (text) => /[[\]<>()*#@="\\/+$]|note:/i.test(text)
const enoughWords = (text) => (text.match(/\p{L}+/gu) ?? []).length >= 2

/**
 * The Asterisk prompts: `name: text` lines; names that appear twice or have no file are left
 * out, and with `digits: false` texts with digits (the Spanish text writes `Marque 1` where the
 * speaker often says `marque el número uno`, and WER has no Spanish number rules).
 */
function asteriskCandidates(wavRoot, textFile, pkg, { digits = true } = {}) {
  const seen = new Map()
  for (const line of gunzipSync(readFileSync(textFile)).toString('utf8').split('\n')) {
    const m = /^([^\s:;][^\s:]*):\s*(.*)$/.exec(line.trim())
    if (m) seen.set(m[1], seen.has(m[1]) ? null : m[2])
  }
  const out = []
  for (const [id, raw] of seen) {
    const file = join(wavRoot, `${id}.wav`)
    if (raw === null || !existsSync(file) || /^(digits|letters|phonetic|silence)\//.test(id)) continue
    if (hasNotes(raw) || !enoughWords(raw) || (!digits && /\d/.test(raw))) continue
    out.push({ id, name: id.replaceAll('/', '-'), text: cleanText(raw), file, source: `${pkg}:${id}.wav` })
  }
  return out
}

const LUA_STRING = '"((?:[^"\\\\]|\\\\.)*)"'
const DIALOG = new RegExp(
  `dialogId\\(\\s*${LUA_STRING}\\s*,\\s*${LUA_STRING}\\s*,\\s*${LUA_STRING}\\s*\\)\\s*dialogStr\\(\\s*${LUA_STRING}\\s*\\)`,
  'g',
)
const unLua = (s) => s.replace(/\\(.)/g, (_, c) => (c === 'n' ? ' ' : c))
const CHARACTERS = { font_small: 'small fish', font_big: 'big fish' }

/** The Dutch dub of Fish Fillets NG: `dialogId(id, font, english) dialogStr(dutch)` → `sound/<level>/nl/<id>.ogg`. */
function filletsCandidates(scriptRoot, soundRoot) {
  const out = []
  for (const level of readdirSync(scriptRoot).sort()) {
    const lua = join(scriptRoot, level, 'dialogs_nl.lua')
    if (!existsSync(lua)) continue
    for (const m of readFileSync(lua, 'utf8').matchAll(DIALOG)) {
      const [, id, font, english, dutch] = m
      const file = join(soundRoot, level, 'nl', `${id}.ogg`)
      const text = unLua(dutch).replace(/\s+/g, ' ').trim()
      if (!existsSync(file) || hasNotes(text) || !enoughWords(text)) continue
      const character = CHARACTERS[font] ?? font.replace(/^font_/, '')
      const source = `fillets-ng-data-nl:sound/${level}/nl/${id}.ogg`
      out.push({
        id: `${level}/${id}`,
        name: `${level}-${id}`,
        text,
        file,
        source,
        character,
        english: unLua(english),
      })
    }
  }
  return out
}

// ---- corpora -----------------------------------------------------------------------------

/**
 * Converts candidates in a deterministic order until CLIPS of them have MIN_SPEECH to
 * MAX_SPEECH seconds of speech; writes `<name>.wav` and returns the manifest (sorted by name)
 * and each clip's source file.
 */
function pickClips(candidates, dir, { language, voice, log }) {
  const names = new Set()
  for (const c of candidates) {
    if (names.has(c.name)) throw new Error(`two clips named ${c.name}`)
    names.add(c.name)
  }
  const order = shuffled(candidates, (c) => `${language}:${c.id}`)
  const lengths = durations(order.map((c) => c.file))
  const manifest = []
  const files = new Map()
  for (let i = 0; i < order.length && manifest.length < CLIPS; i++) {
    if (lengths[i] < MIN_SPEECH) continue
    const c = order[i]
    const out = join(dir, `${c.name}.wav`)
    toWav16k(c.file, out)
    const { samples } = readPcm16(out)
    const { start, end } = speechBounds(samples, SAMPLE_RATE)
    if (end - start < MIN_SPEECH || end - start > MAX_SPEECH) {
      rmSync(out, { force: true })
      continue
    }
    manifest.push({
      name: c.name,
      language,
      text: c.text,
      durationSeconds: round(samples.length / SAMPLE_RATE),
      speechStart: start,
      speechEnd: end,
      voice: typeof voice === 'function' ? voice(c) : voice,
      source: c.source,
      ...(c.english ? { english: c.english } : {}),
    })
    files.set(c.name, c.file)
    if (manifest.length % 20 === 0) log(`  ${manifest.length}/${CLIPS} clips`)
  }
  if (manifest.length < CLIPS) throw new Error(`only ${manifest.length} usable clips for ${language}`)
  return { manifest: manifest.sort((a, b) => (a.name < b.name ? -1 : 1)), files }
}

const writeManifest = (dir, manifest) =>
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)

/** `real-<lang>` (16 kHz) and `real-<lang>-8k` (the original telephone-rate files) from Asterisk. */
export function buildAsterisk(language, wavPkgDir, textPkgDir, dirs, log) {
  const soundsDir = join(wavPkgDir, 'usr/share/asterisk/sounds')
  const [voiceDir] = readdirSync(soundsDir)
  const textFile = join(
    textPkgDir,
    `usr/share/doc/asterisk-core-sounds-${language}/core-sounds-${language}.txt.gz`,
  )
  const candidates = asteriskCandidates(
    join(soundsDir, voiceDir),
    textFile,
    `asterisk-core-sounds-${language}-wav ${voiceDir}`,
    { digits: language === 'en' },
  )
  log(`real-${language}: ${candidates.length} prompts with text, picking ${CLIPS}`)
  const { manifest, files } = pickClips(candidates, dirs.clips, {
    language,
    voice: `Allison Smith (${voiceDir}), 8 kHz telephone recording`,
    log,
  })
  writeManifest(dirs.clips, manifest)
  for (const f of manifest) copyFileSync(files.get(f.name), join(dirs.phone, `${f.name}.wav`))
  writeManifest(dirs.phone, manifest)
  return manifest
}

/** `real-nl` from the Dutch dub of Fish Fillets NG. */
export function buildFillets(dataPkgDir, nlPkgDir, dirs, log) {
  const game = 'usr/share/games/fillets-ng'
  const candidates = filletsCandidates(join(dataPkgDir, game, 'script'), join(nlPkgDir, game, 'sound'))
  log(`real-nl: ${candidates.length} dialogue lines with text and sound, picking ${CLIPS}`)
  const { manifest } = pickClips(candidates, dirs.clips, {
    language: 'nl',
    voice: (c) => `Fish Fillets NG Dutch dub: ${c.character}`,
    log,
  })
  writeManifest(dirs.clips, manifest)
  return manifest
}

/** Seeded pauses between GAP_MIN and GAP_MAX seconds, in steps of 10 ms. */
function pauses(seed) {
  let x = Number.parseInt(sha(seed).slice(0, 8), 16) || 1
  return () => {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0
    return Math.round((GAP_MIN + ((x >>> 8) / 2 ** 24) * (GAP_MAX - GAP_MIN)) * 100) / 100
  }
}

/**
 * `real-<lang>-long`: the clips' speech one after another with varied pauses, one stream per
 * STREAMS entry, each with the whole text and each clip's place in it (`segments`).
 */
export function buildLong(language, clipsDir, manifest, dir, log) {
  const order = shuffled(manifest, (f) => `${language}-long:${f.name}`)
  const gap = pauses(`${language}-long`)
  const streams = []
  let next = 0
  for (const { name, seconds } of STREAMS) {
    const parts = []
    const segments = []
    let t = LEAD
    // In order, each clip that still fits in the stream's length, until less than a clip is left.
    for (let tried = 0; seconds - TRAIL - t >= MIN_SPEECH && tried < order.length; tried++) {
      const f = order[next++ % order.length]
      if (f.speechEnd - f.speechStart > seconds - TRAIL - t) continue
      const { samples } = readPcm16(join(clipsDir, `${f.name}.wav`))
      const from = Math.max(0, Math.round((f.speechStart - MARGIN) * SAMPLE_RATE))
      const to = Math.min(samples.length, Math.round((f.speechEnd + MARGIN) * SAMPLE_RATE))
      const at = Math.round(t * SAMPLE_RATE) - (Math.round(f.speechStart * SAMPLE_RATE) - from)
      parts.push({ at, audio: samples.subarray(from, to) })
      const start = round(t)
      const end = round(t + f.speechEnd - f.speechStart)
      segments.push({ name: f.name, start, end, text: f.text })
      t = end + gap()
    }
    const last = segments[segments.length - 1]
    const audio = new Int16Array(Math.ceil((last.end + TRAIL) * SAMPLE_RATE))
    for (const p of parts) audio.set(p.audio.subarray(0, audio.length - p.at), p.at)
    writePcm16(join(dir, `${name}.wav`), audio)
    streams.push({
      name,
      language,
      text: segments.map((s) => s.text).join(' '),
      durationSeconds: round(audio.length / SAMPLE_RATE),
      speechStart: segments[0].start,
      speechEnd: last.end,
      voice: [...new Set(segments.map((s) => manifest.find((f) => f.name === s.name).voice))].join('; '),
      segments,
    })
    log(
      `real-${language}-long: ${name}, ${segments.length} clips, ${Math.round(audio.length / SAMPLE_RATE)} s`,
    )
  }
  writeManifest(dir, streams)
  return streams
}
