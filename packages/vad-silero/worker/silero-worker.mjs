// @ts-check
// The Silero VAD worker: one per process, shared by every SileroVad. It runs the model on
// onnxruntime-web's WebAssembly build (no native binary, no install script), off the main
// thread. Each VAD's recurrent state and 64-sample context live here, keyed by its id, so a
// frame travels in and one probability travels back.
// Messages in: { op: 'open', id, modelPath, sampleRate } | { op: 'run', id, seq, frame }
// | { op: 'reset', id } | { op: 'close', id, seq }. Out: { id, seq?, ok, value?, error? }.
import { readFile } from 'node:fs/promises'
import { parentPort } from 'node:worker_threads'
import * as ort from 'onnxruntime-web'

// One thread: the model is tiny (2 MB), and more threads only add synchronisation.
ort.env.wasm.numThreads = 1

/** @typedef {{ session: ort.InferenceSession, sr: ort.Tensor, contextSamples: number, state: Float32Array, context: Float32Array }} Vad */
/** @type {Map<number, Vad>} */
const vads = new Map()
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)

/** @param {number} contextSamples */
const fresh = (contextSamples) => ({
  state: new Float32Array(2 * 128),
  context: new Float32Array(contextSamples),
})

/** @param {{ modelPath: string, sampleRate: number }} m */
async function open(m) {
  const session = await ort.InferenceSession.create(new Uint8Array(await readFile(m.modelPath)))
  if (!session.inputNames.includes('state') || !session.inputNames.includes('input')) {
    await session.release()
    throw Object.assign(new Error(`not a Silero VAD v5 model (inputs: ${session.inputNames.join(', ')})`), {
      code: 'model_load_failed',
    })
  }
  const contextSamples = m.sampleRate === 16_000 ? 64 : 32
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(m.sampleRate)]), [])
  return { session, sr, contextSamples, ...fresh(contextSamples) }
}

/** @param {Vad} v @param {Float32Array} frame */
async function run(v, frame) {
  const n = v.contextSamples
  const input = new Float32Array(n + frame.length)
  input.set(v.context)
  input.set(frame, n)
  const out = await v.session.run({
    input: new ort.Tensor('float32', input, [1, input.length]),
    state: new ort.Tensor('float32', v.state, [2, 1, 128]),
    sr: v.sr,
  })
  const { stateN, output } = out
  if (!stateN || !output) throw new Error(`unexpected outputs: ${Object.keys(out).join(', ')}`)
  v.state = new Float32Array(/** @type {Float32Array} */ (stateN.data))
  v.context = input.slice(input.length - n)
  return /** @type {Float32Array} */ (output.data)[0]
}

// Messages of one VAD are handled in order (the main thread sends them in order and the
// chain below keeps them so), and never interleave with another op of the same VAD.
let chain = Promise.resolve()
port.on('message', (m) => {
  chain = chain.then(async () => {
    try {
      let value
      if (m.op === 'open') vads.set(m.id, await open(m))
      else {
        const v = vads.get(m.id)
        if (!v) throw Object.assign(new Error('The VAD is closed'), { code: 'closed' })
        if (m.op === 'run') value = await run(v, m.frame)
        else if (m.op === 'reset') Object.assign(v, fresh(v.contextSamples))
        else if (m.op === 'close') {
          vads.delete(m.id)
          await v.session.release()
        }
      }
      port.postMessage({ id: m.id, seq: m.seq, ok: true, value })
    } catch (err) {
      const e = /** @type {Error & { code?: string }} */ (err)
      port.postMessage({ id: m.id, seq: m.seq, ok: false, error: { message: e.message, code: e.code } })
    }
  })
})
