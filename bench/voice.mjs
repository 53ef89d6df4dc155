// The voice assistant's latencies on this machine: ten spoken questions (espeak-ng) streamed
// in real time to /voice/stream (whisper.cpp tiny.en, SmolLM2-135M-Instruct through
// node-llama-cpp, espeak-ng), one at a time. From the end of the question's speech: the final
// transcript, the first response chunk, the first sentence's audio ready (its audio_chunk).
//
//   node bench/voice.mjs [--out bench/results/voice]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { corpusWordErrorRate, readWavMono, resample } from '@ws/core'
import { createVad } from '@ws/vad-webrtc'
import { createVoiceServer, EspeakSynthesizer, LocalChatModel } from '@ws/voice'
import WebSocket from 'ws'

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: fileURLToPath(new URL('results/voice', import.meta.url)) } },
})

const QUESTIONS = [
  'What is the capital of France?',
  'Why is the sky blue?',
  'How many legs does a spider have?',
  'What is the boiling point of water?',
  'Who wrote Romeo and Juliet?',
  'What is the largest planet in our solar system?',
  'How do bees make honey?',
  'What is the speed of light?',
  'Can you recommend a good book?',
  'What should I cook for dinner tonight?',
]
const SR = 16_000
const TRAIL_S = 0.5

const tts = new EspeakSynthesizer()
const backend = new WhisperCppBackend()
await backend.loadModel('tiny.en')
const chat = new LocalChatModel()
await chat.load()
const server = createVoiceServer({ backend, createVad, chat, tts, port: 0 })
await server.listen()
const url = `${server.url.replace('http', 'ws')}/voice/stream`

const ws = new WebSocket(url)
const waiters = []
ws.on('message', (data) => {
  const m = { ...JSON.parse(String(data)), at: performance.now() }
  for (const w of waiters.splice(0)) if (!w(m)) waiters.push(w)
})
const next = (test) =>
  new Promise((resolve) => {
    waiters.push((m) => {
      if (!test(m)) return false
      resolve(m)
      return true
    })
  })
await next((m) => m.type === 'ready')

const rows = []
for (const q of QUESTIONS) {
  const wav = readWavMono(await tts.synthesize(q))
  const speech = resample(wav.samples, wav.sampleRate, SR)
  const audio = new Float32Array(Math.round(0.3 * SR) + speech.length + Math.round(TRAIL_S * SR))
  audio.set(speech, Math.round(0.3 * SR))
  const final = next((m) => m.type === 'final_transcript')
  const chunk = next((m) => m.type === 'response_chunk')
  const spoken = next((m) => m.type === 'audio_chunk' || m.type === 'response_complete')
  const done = next((m) => m.type === 'response_complete' || m.type === 'error')
  ws.send(JSON.stringify({ type: 'audio_start', format: { encoding: 'pcm_s16le', sample_rate: SR } }))
  const t0 = performance.now()
  let speechEnd = 0
  for (let i = 0, k = 0; i < audio.length; i += 320, k++) {
    const f = audio.subarray(i, i + 320)
    const pcm = new Int16Array(f.length)
    for (let j = 0; j < f.length; j++) pcm[j] = Math.round(Math.max(-1, Math.min(1, f[j])) * 32767)
    ws.send(pcm)
    if (i + 320 >= audio.length - TRAIL_S * SR && !speechEnd) speechEnd = performance.now()
    const due = t0 + (k + 1) * 20 - performance.now()
    if (due > 0) await new Promise((r) => setTimeout(r, due))
  }
  ws.send(JSON.stringify({ type: 'audio_end' }))
  const [f, c, s, d] = await Promise.all([final, chunk, spoken, done])
  rows.push({
    question: q,
    heard: f.text,
    wer: corpusWordErrorRate([{ reference: q, hypothesis: f.text }]),
    finalMs: Math.round(f.at - speechEnd),
    firstChunkMs: Math.round(c.at - speechEnd),
    firstAudioMs: s.type === 'audio_chunk' ? Math.round(s.at - speechEnd) : null,
    answer: d.text ?? d.message,
  })
  console.error(JSON.stringify(rows.at(-1)))
  await new Promise((r) => setTimeout(r, 500))
}
ws.close()
await server.close()
await chat.close()
await backend.close()

const p50 = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  command: 'node bench/voice.mjs',
  p50: {
    finalMs: p50(rows.map((r) => r.finalMs)),
    firstChunkMs: p50(rows.map((r) => r.firstChunkMs)),
    firstAudioMs: p50(rows.map((r) => r.firstAudioMs)),
  },
  rows,
}
const md = [
  '# Voice assistant latency',
  '',
  `${report.date.slice(0, 10)} · ${report.machine} · \`${report.command}\` · whisper.cpp tiny.en, WebRTC VAD, SmolLM2-135M-Instruct Q4_1 (node-llama-cpp, 1 thread), espeak-ng; ten questions spoken by espeak-ng, streamed in real time, audio_end ${TRAIL_S * 1000} ms after the speech`,
  '',
  `From the end of speech, p50 over ten questions: final transcript **${report.p50.finalMs} ms**, first response chunk **${report.p50.firstChunkMs} ms**, first sentence's audio ready **${report.p50.firstAudioMs} ms**.`,
  '',
  '| question | heard | final | first chunk | first audio | answer |',
  '|---|---|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${r.question} | ${r.heard} | ${r.finalMs} ms | ${r.firstChunkMs} ms | ${r.firstAudioMs ?? '–'} ms | ${String(r.answer).replace(/\|/g, '/').slice(0, 120)} |`,
  ),
]
mkdirSync(args.out, { recursive: true })
writeFileSync(`${args.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${args.out}/latest.md`, `${md.join('\n')}\n`)
console.log(md.join('\n'))
