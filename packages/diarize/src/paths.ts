import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Files shipped beside dist/ (and beside src/ in the workspace): found the same way from both builds.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url))

/** The embedding worker: plain ESM, the same file for both builds. */
export const EMBED_WORKER_PATH = join(here, '..', 'worker', 'embed-worker.mjs')

/** The clustering worker: plain ESM, the same file for both builds. */
export const CLUSTER_WORKER_PATH = join(here, '..', 'worker', 'cluster-worker.mjs')
