// Speaker diarization on real voices (@ws/diarize): conversations built from the real-speech
// corpora (Asterisk's English voice and the two leading voices of Fish Fillets NG's Dutch dub,
// turns with 0.15–1 s pauses, reference turns from each clip's measured speech), diarized as
// files with the speaker count found automatically. Per conversation: DER with a 0.25 s collar
// and without, speakers found, seconds per audio second, peak RSS.
//   node bench/diarization.mjs [--sweep] [--out bench/results/diarization]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { realConversation, realSpeechFixtures } from '@ws/core/testing'
import { DIARIZE_DEFAULTS, diarizationErrorRate, diarize, SpeakerEmbedder } from '@ws/diarize'

const { values: args } = parseArgs({
  options: {
    sweep: { type: 'boolean' },
    out: { type: 'string', default: 'bench/results/diarization' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (args.help) {
  console.log(`Usage: node bench/diarization.mjs [--sweep] [--out <dir>]
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

const embedder = await SpeakerEmbedder.create()
const baseRss = process.memoryUsage().rss
let peakRss = 0
const sample = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)
const rows = []
for (const [name, voices] of Object.entries(sets)) {
  for (const seed of name === 'Allison alone' ? [4] : [1, 2, 3]) {
    const conv = realConversation(voices, { seed, turns: name === 'Allison alone' ? 16 : 24 })
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
    })
    console.error(
      `${name} seed ${seed}: DER ${(collar.der * 100).toFixed(1)} %, ${result.speakers.length} speakers`,
    )
  }
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
const command = `node bench/diarization.mjs${args.sweep ? ' --sweep' : ''}`
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
