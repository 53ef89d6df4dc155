import { Worker } from 'node:worker_threads'
import { abortError, throwIfAborted, WsError } from '@ws/core'
import { type SpectralOptions, spectralClusters } from '../worker/spectral.mjs'
import { CLUSTER_WORKER_PATH } from './paths.js'

/** The clustering worker's nice value (Linux): transcription gets the CPU first. */
const WORKER_NICENESS = 10

export interface ClusterOptions {
  /** The number of speakers, when known (otherwise found from the eigengap). */
  numSpeakers?: number
  /** Fewest speakers to find (default 1). */
  minSpeakers?: number
  /** Most speakers to find (default 8). */
  maxSpeakers?: number
  /**
   * Share of each window's nearest neighbours joined to it in the affinity graph (default 0.25:
   * at 0.3 the windows that straddle overlapping speech joined two voices into one).
   */
  pruning?: number
  /**
   * Cluster each cluster again on its own and split it when its eigengap says so (default
   * true): a voice set far apart (another channel or language) otherwise hides two close ones.
   */
  refine?: boolean
  /**
   * Each embedding's window as a time range: windows that share audio are not counted as
   * each other's neighbours (they are similar because they overlap, not because one voice
   * speaks in both).
   */
  windows?: readonly { start: number; end: number }[]
  /** Clusters of fewer windows join their nearest cluster, when the count is found (default 3). */
  minClusterWindows?: number
}

/** Defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = {
  minSpeakers: 1,
  maxSpeakers: 8,
  pruning: 0.25,
  refine: true,
  minClusterWindows: 3,
} as const

export interface Clustering {
  /** A cluster per embedding, numbered 0, 1, … in order of first appearance. */
  labels: number[]
  count: number
}

/** Checks the speaker-count hints and the pruning share; throws `invalid_config`. */
export function validateSpeakerCounts(
  o: Pick<ClusterOptions, 'numSpeakers' | 'minSpeakers' | 'maxSpeakers' | 'pruning'>,
): void {
  for (const key of ['numSpeakers', 'minSpeakers', 'maxSpeakers'] as const) {
    const v = o[key]
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 32))
      throw new WsError('invalid_config', `${key} must be an integer from 1 to 32, got ${v}`)
  }
  if (o.pruning !== undefined && !(o.pruning > 0 && o.pruning <= 1))
    throw new WsError('invalid_config', `pruning is a share above 0, at most 1, got ${o.pruning}`)
  if ((o.minSpeakers ?? 1) > (o.maxSpeakers ?? CLUSTER_DEFAULTS.maxSpeakers))
    throw new WsError(
      'invalid_config',
      `minSpeakers (${o.minSpeakers}) is above maxSpeakers (${o.maxSpeakers})`,
    )
}

/**
 * Spectral clustering of speaker embeddings on the calling thread (O(n³) in the number of
 * embeddings: a few hundred take well under a second, a thousand several seconds — a server
 * calls {@link clusterInWorker}): a binarised nearest-neighbour affinity graph, the speaker
 * count from its Laplacian's eigengap (or `numSpeakers`), k-means on the spectral embedding,
 * small clusters absorbed, clusters split again when their own eigengap says so. Labels are
 * numbered 0, 1, … in order of first appearance. Bad hints → `invalid_config`.
 */
export function clusterEmbeddings(
  embeddings: readonly Float32Array[],
  options: ClusterOptions = {},
): Clustering {
  validateSpeakerCounts(options)
  return spectralClusters(embeddings, spectralOptions(options))
}

/** The clustering's own options with their defaults (nothing else: they go to a worker). */
function spectralOptions(o: ClusterOptions): SpectralOptions {
  const d = CLUSTER_DEFAULTS
  return {
    numSpeakers: o.numSpeakers,
    minSpeakers: o.minSpeakers ?? d.minSpeakers,
    maxSpeakers: o.maxSpeakers ?? d.maxSpeakers,
    pruning: o.pruning ?? d.pruning,
    refine: o.refine ?? d.refine,
    minClusterWindows: o.minClusterWindows ?? d.minClusterWindows,
    windows: o.windows?.map(({ start, end }) => ({ start, end })),
  }
}

/**
 * {@link clusterEmbeddings} in a worker thread of its own, started for the call and ended
 * with it: the event loop stays free while a long recording is clustered. `signal` ends the
 * worker (`aborted`).
 */
export async function clusterInWorker(
  embeddings: readonly Float32Array[],
  options: ClusterOptions = {},
  signal?: AbortSignal,
): Promise<Clustering> {
  validateSpeakerCounts(options)
  throwIfAborted(signal, 'clustering')
  const worker = new Worker(CLUSTER_WORKER_PATH, {
    workerData: { embeddings, options: spectralOptions(options), niceness: WORKER_NICENESS },
    execArgv: [],
  })
  let abort = () => {}
  try {
    return await new Promise<Clustering>((resolve, reject) => {
      abort = () => reject(abortError(signal, 'clustering'))
      signal?.addEventListener('abort', abort, { once: true })
      worker.once('message', (m: { ok: boolean; labels: number[]; count: number; message?: string }) =>
        m.ok
          ? resolve({ labels: m.labels, count: m.count })
          : reject(new WsError('backend_failed', `Clustering failed: ${m.message}`)),
      )
      worker.once('error', (err) =>
        reject(new WsError('backend_failed', `The clustering worker failed: ${err.message}`, { cause: err })),
      )
      worker.once('exit', (code) =>
        reject(
          new WsError('backend_failed', `The clustering worker exited (code ${code}) without an answer`),
        ),
      )
    })
  } finally {
    // A long-lived signal keeps no listener of a call that is over.
    signal?.removeEventListener('abort', abort)
    await worker.terminate()
  }
}
