// Speaker diarization on real voices (@ws/diarize): conversations built from the real-speech
// corpora (Asterisk's English voice and the two leading voices of Fish Fillets NG's Dutch dub,
// turns with 0.15–1 s pauses, reference turns from each clip's measured speech), diarized as
// files with the speaker count found automatically. Per conversation: DER with a 0.25 s collar
// and without, speakers found, seconds per audio second, peak RSS; and DER as users get it: the
// segments of the server's `diarized_json` answer (REST, multilingual `base`) per backend.
//   node bench/diarization.mjs [--sweep] [--delivered whispercpp,faster] [--out bench/results/diarization]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { writeWav } from '@ws/core'
import { realConversation, realSpeechFixtures } from '@ws/core/testing'
import { DIARIZE_DEFAULTS, diarizationErrorRate, diarize, SpeakerEmbedder } from '@ws/diarize'
import { createServer } from '@ws/server'
import { pino } from 'pino'

const { values: args } = parseArgs({
  options: {
    sweep: { type: 'boolean' },
    delivered: { type: 'string', default: 'whispercpp,faster' },
    out: { type: 'string', default: 'bench/results/diarization' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (args.help) {
  console.log(`Usage: node bench/diarization.mjs [--sweep] [--delivered <backends>] [--out <dir>]
  --delivered  the backends whose server answers are scored as delivered (REST diarized_json,
               base): whispercpp,faster (default both; '' for none)
  --sweep   also 12 seeds × 12/18/24 turns of each voice set (72 conversations): how often
            the speaker count is right and DER ≤ 10 %`)
  process.exit(0)
}

const nl = realSpeechFixtures('real-nl')
const voice = (clips) => clips.filter((c) => c.speechEnd - c.speechStart >= 1.5).slice(0, -3)
const small = voice(nl.filter((c) => c.voice?.endsWith('small fish')))
const big = voice(nl.filter((c) => c.voice?.endsWith('big fish')))
const allison = voice(realSpeechFixtures('real-en'))
const sets = {
  'small fish + big fish (one studio)': { small, big },
  'Allison + small fish + big fish': { allison, small, big },
  'Allison alone': { allison },
}

const delivered = args.delivered.split(',').filter(Boolean)
const conversations = Object.entries(sets).flatMap(([name, voices]) =>
  (name === 'Allison alone' ? [4] : [1, 2, 3]).map((seed) => ({
    name,
    voices,
    seed,
    conv: realConversation(voices, { seed, turns: name === 'Allison alone' ? 16 : 24 }),
    speakerTurns: realConversation(voices, {
      seed,
      turns: name === 'Allison alone' ? 16 : 24,
      turnEnds: 'speaker',
    }).turns,
  })),
)

/**
 * DER of what users get: each conversation as a file to the server's REST endpoint
 * (`diarized_json`, its segments as the speaker turns), on `backend` with `base`.
 */
async function scoreDelivered(backend) {
  const server = createServer({
    backend,
    model: 'base',
    port: 0,
    demo: false,
    speakerThreads: 2,
    logger: pino({ level: 'silent' }),
  })
  await server.listen()
  const out = []
  try {
    for (const { conv, speakerTurns } of conversations) {
      const form = new FormData()
      form.set('file', new Blob([writeWav([conv.audio], 16_000)], { type: 'audio/wav' }), 'conversation.wav')
      form.set('model', 'gpt-4o-transcribe-diarize')
      form.set('response_format', 'diarized_json')
      const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form })
      if (!res.ok) throw new Error(`${backend}: ${res.status} ${await res.text()}`)
      const { segments } = await res.json()
      const turns = segments.map((s) => ({ speaker: s.speaker, start: s.start, end: s.end }))
      const d = diarizationErrorRate(conv.turns, turns)
      const bySpeaker = diarizationErrorRate(speakerTurns, turns).der
      out.push({
        derSpeakerEnds: bySpeaker,
        der: d.der,
        missed: d.missed,
        falseAlarm: d.falseAlarm,
        confusion: d.confusion,
        scored: d.scored,
      })
      console.error(
        `${backend} diarized_json: DER ${(d.der * 100).toFixed(1)} % (${(bySpeaker * 100).toFixed(1)} % to speaker ends)`,
      )
    }
  } finally {
    await server.close()
  }
  return out
}
const deliveredRows = {}
for (const backend of delivered) deliveredRows[backend] = await scoreDelivered(backend)

const embedder = await SpeakerEmbedder.create()
const baseRss = process.memoryUsage().rss
let peakRss = 0
const sample = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)
const rows = []
for (const [i, { name, voices, seed, conv }] of conversations.entries()) {
  const started = performance.now()
  const result = await diarize(embedder, conv.audio)
  const seconds = (performance.now() - started) / 1000
  const audio = conv.audio.length / 16_000
  const collar = diarizationErrorRate(conv.turns, result.turns)
  const none = diarizationErrorRate(conv.turns, result.turns, { collarSeconds: 0 })
  rows.push({
    set: name,
    seed,
    audioSeconds: audio,
    speakers: Object.keys(voices).length,
    found: result.speakers.length,
    der: collar.der,
    derNoCollar: none.der,
    missed: collar.missed,
    falseAlarm: collar.falseAlarm,
    confusion: collar.confusion,
    secondsPerAudioSecond: seconds / audio,
    delivered: Object.fromEntries(delivered.map((b) => [b, deliveredRows[b][i]])),
  })
  console.error(
    `${name} seed ${seed}: DER ${(collar.der * 100).toFixed(1)} %, ${result.speakers.length} speakers`,
  )
}
const sweep = []
if (args.sweep) {
  for (const [name, voices] of Object.entries(sets).slice(0, 2)) {
    let right = 0
    let under10 = 0
    const ders = []
    for (let seed = 1; seed <= 12; seed++) {
      for (const turns of [12, 18, 24]) {
        const conv = realConversation(voices, { seed, turns })
        const result = await diarize(embedder, conv.audio)
        const d = diarizationErrorRate(conv.turns, result.turns).der
        ders.push(d)
        if (result.speakers.length === Object.keys(voices).length) right++
        if (d <= 0.1) under10++
      }
    }
    ders.sort((a, b) => a - b)
    sweep.push({
      set: name,
      conversations: ders.length,
      countRight: right,
      derAtMost10: under10,
      derMedian: ders[ders.length >> 1],
    })
  }
}
clearInterval(sample)
await embedder.close()

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
const command = `node bench/diarization.mjs ${process.argv.slice(2).join(' ')}`.trim()
const pct = (v) => `${(v * 100).toFixed(1)} %`
const md = [
  '# Diarization on real voices',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${machine} · \`${command}\` · CAM++ (ONNX, onnxruntime-web, 1 thread), ${DIARIZE_DEFAULTS.windowSeconds} s windows every ${DIARIZE_DEFAULTS.hopSeconds} s, WebRTC VAD, spectral clustering, count found automatically. Peak RSS of the process (embedding worker included): ${(peakRss / 1048576).toFixed(0)} MB, of which ${(baseRss / 1048576).toFixed(0)} MB before the embedder started (Node and the decoded corpora).`,
  '',
  '| voices | seed | audio | speakers found | DER (0.25 s collar) | DER (no collar) | missed / false alarm / confusion | s per audio s |',
  '|---|---:|---:|---:|---:|---:|---|---:|',
  ...rows.map(
    (r) =>
      `| ${r.set} | ${r.seed} | ${r.audioSeconds.toFixed(0)} s | ${r.found} of ${r.speakers} | ${pct(r.der)} | ${pct(r.derNoCollar)} | ${r.missed.toFixed(2)} / ${r.falseAlarm.toFixed(2)} / ${r.confusion.toFixed(2)} s | ${r.secondsPerAudioSecond.toFixed(3)} |`,
  ),
]
if (delivered.length > 0) {
  const names = { whispercpp: 'whisper.cpp', faster: 'faster-whisper' }
  md.push(
    '',
    '## As delivered: the segments of the REST answer',
    '',
    "Each conversation as a file to the server (`POST /v1/audio/transcriptions`, `response_format=diarized_json`, multilingual `base`, language detected), each answer segment scored as a speaker turn against the reference (0.25 s collar): what a user of the API gets, next to the diarizer's own turns above. Segments run from their first word's start to their last word's end. Two references: the turns to each clip's measured speech end (40 dB below its loudest frame, as the diarizer's own turns are scored: in the Dutch studio that includes 0.5–0.8 s of reverb no word covers), and [in brackets] to where each speaker stops (30 dB below, `turnEnds: 'speaker'`).",
    '',
    `| voices | seed | diarizer's own turns | ${delivered.map((b) => `${names[b] ?? b} diarized_json (missed / false alarm / confusion)`).join(' | ')} |`,
    `|---|---:|---:|${delivered.map(() => '---:|').join('')}`,
    ...rows.map(
      (r) =>
        `| ${r.set} | ${r.seed} | ${pct(r.der)} | ${delivered
          .map((b) => {
            const d = r.delivered[b]
            return `${pct(d.der)} (${pct(d.missed / d.scored)} / ${pct(d.falseAlarm / d.scored)} / ${pct(d.confusion / d.scored)}) [${pct(d.derSpeakerEnds)}]`
          })
          .join(' | ')} |`,
    ),
  )
}
if (sweep.length > 0) {
  md.push(
    '',
    '## Sweep: 12 seeds × 12, 18, 24 turns',
    '',
    '| voices | conversations | count right | DER ≤ 10 % | median DER |',
    '|---|---:|---:|---:|---:|',
    ...sweep.map(
      (s) => `| ${s.set} | ${s.conversations} | ${s.countRight} | ${s.derAtMost10} | ${pct(s.derMedian)} |`,
    ),
  )
}
mkdirSync(args.out, { recursive: true })
writeFileSync(
  `${args.out}/latest.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine, command, peakRss, rows, sweep }, null, 2)}\n`,
)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
