// @ts-check
// The clustering worker: one per diarize() call, so that the O(windows³) eigendecomposition
// never runs on the caller's event loop (nor in the embedding worker, where live sessions'
// windows would wait behind it), at a lower CPU priority than transcription. In: { embeddings:
// Float32Array[], options (SpectralOptions), niceness }.
// Out: { ok: true, labels, count } or { ok: false, message }.
import { parentPort, workerData } from 'node:worker_threads'
import { lowerThreadPriority } from './priority.mjs'
import { spectralClusters } from './spectral.mjs'

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)
lowerThreadPriority(workerData.niceness)
try {
  const { labels, count } = spectralClusters(workerData.embeddings, workerData.options)
  port.postMessage({ ok: true, labels, count })
} catch (err) {
  port.postMessage({ ok: false, message: /** @type {Error} */ (err).message })
}
