// Streams audio through a StreamingSession in 100 ms frames, as a microphone would, and
// prints the events. The backend here is @ws/core's fake, which "hears" the synthetic voice
// from @ws/core/testing, so the example runs anywhere in a second; swap in a real backend
// (@ws/backend-whispercpp, @ws/backend-faster) and real audio for real speech.
//
//   node index.mjs [prompt|context|hybrid|agreement]
import { StreamingSession } from '@ws/core'
import { EnergyVad, FakeBackend, SyntheticVoice } from '@ws/core/testing'

const strategy = process.argv[2] ?? 'agreement'
const voice = new SyntheticVoice({
  vocabulary: ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'then', 'sleeps'],
})
const backend = new FakeBackend({ voice, delayMs: 20 })
await backend.loadModel('fake')

// Two sentences with a pause between them; the VAD splits them into two utterances.
const first = voice.speak('the quick brown fox jumps over the lazy dog', 300, 800)
const second = voice.speak('and then the fox sleeps', 0, 600)
const audio = new Float32Array(first.audio.length + second.audio.length)
audio.set(first.audio)
audio.set(second.audio, first.audio.length)

const session = new StreamingSession({ backend, strategy, vad: new EnergyVad(), partialIntervalMs: 300 })

const feeding = (async () => {
  for (let i = 0; i < audio.length; i += 1600) {
    session.pushAudio(audio.subarray(i, i + 1600))
    await new Promise((resolve) => setTimeout(resolve, 10)) // 10× faster than real time
  }
  await session.end()
})()

for await (const event of session) {
  switch (event.type) {
    case 'speech_start':
    case 'speech_end':
      console.log(`${event.type.padEnd(12)} t=${event.t.toFixed(2)}s`)
      break
    case 'partial':
      console.log(`partial #${event.utteranceId}  [${event.stable}] ${event.unstable}`)
      break
    case 'final':
      console.log(
        `final   #${event.utteranceId}  "${event.text}" (${event.audioStart.toFixed(2)}–${event.audioEnd.toFixed(2)}s, ${event.reason})`,
      )
      break
    case 'error':
      console.error(`error ${event.error.code}: ${event.error.message}`)
      process.exitCode = 1
  }
}
await feeding
await backend.close()
