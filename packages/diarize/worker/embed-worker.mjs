// @ts-check
// The speaker-embedding worker: one per SpeakerEmbedder. It computes each window's Kaldi
// fbank features and runs the embedding model on onnxruntime-web's WebAssembly build, off the
// main thread. Windows of equal length go through the model in batches of up to 16.
// Messages in: { op: 'open', seq, modelPath, threads, niceness } | { op: 'embed', seq, windows: Float32Array[] }
// | { op: 'close', seq }. Out: { seq, ok, value?, error? }; an embed's value is a Float32Array
// of windows.length × dim values.
import { readFile } from 'node:fs/promises'
import { parentPort } from 'node:worker_threads'
import * as ort from 'onnxruntime-web'
import { fbank, MEL_BINS } from './fbank.mjs'
import { lowerThreadPriority } from './priority.mjs'

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)
/** @type {ort.InferenceSession | undefined} */
let session
let dim = 0
const BATCH = 16

/** @param {{ modelPath: string, threads: number, niceness: number }} m */
async function open(m) {
  lowerThreadPriority(m.niceness)
  ort.env.wasm.numThreads = m.threads
  let s
  try {
    s = await ort.InferenceSession.create(new Uint8Array(await readFile(m.modelPath)))
  } catch (err) {
    const reason = /** @type {Error} */ (err).message
    throw Object.assign(new Error(`${m.modelPath} is not a model onnxruntime can load: ${reason}`), {
      code: 'model_load_failed',
    })
  }
  if (!s.inputNames.includes('fbank') || !s.outputNames.includes('embedding')) {
    await s.release()
    throw Object.assign(
      new Error(`not a speaker-embedding model of @ws/models (inputs: ${s.inputNames.join(', ')})`),
      { code: 'model_load_failed' },
    )
  }
  session = s
  const probe = await s.run({
    fbank: new ort.Tensor('float32', new Float32Array(100 * MEL_BINS), [1, 100, MEL_BINS]),
  })
  dim = /** @type {ort.Tensor} */ (probe.embedding).dims[1] ?? 0
  return dim
}

/** @param {Float32Array[]} windows */
async function embed(windows) {
  if (!session) throw Object.assign(new Error('The embedder is closed'), { code: 'closed' })
  const out = new Float32Array(windows.length * dim)
  // Group windows by length: equal lengths share one batch (no padding enters the pooling).
  /** @type {Map<number, number[]>} */
  const groups = new Map()
  windows.forEach((w, i) => {
    const g = groups.get(w.length) ?? []
    g.push(i)
    groups.set(w.length, g)
  })
  // At most BATCH windows per run: the runtime's memory grows with the largest batch it ran.
  const batches = [...groups.values()].flatMap((g) =>
    Array.from({ length: Math.ceil(g.length / BATCH) }, (_, b) => g.slice(b * BATCH, (b + 1) * BATCH)),
  )
  for (const indices of batches) {
    const features = indices.map((i) => fbank(/** @type {Float32Array} */ (windows[i])))
    const frames = /** @type {Float32Array} */ (features[0]).length / MEL_BINS
    const batch = new Float32Array(features.length * frames * MEL_BINS)
    for (const [b, f] of features.entries()) batch.set(f, b * frames * MEL_BINS)
    const result = await session.run({
      fbank: new ort.Tensor('float32', batch, [features.length, frames, MEL_BINS]),
    })
    const data = /** @type {Float32Array} */ (/** @type {ort.Tensor} */ (result.embedding).data)
    for (const [b, i] of indices.entries()) out.set(data.subarray(b * dim, (b + 1) * dim), i * dim)
  }
  return out
}

let chain = Promise.resolve()
port.on('message', (m) => {
  chain = chain.then(async () => {
    try {
      /** @type {unknown} */
      let value
      if (m.op === 'open') value = await open(m)
      else if (m.op === 'embed') value = await embed(m.windows)
      else if (m.op === 'close') {
        await session?.release()
        session = undefined
      }
      port.postMessage({ seq: m.seq, ok: true, value })
    } catch (err) {
      const e = /** @type {Error & { code?: string }} */ (err)
      port.postMessage({ seq: m.seq, ok: false, error: { message: e.message, code: e.code } })
    }
  })
})
