import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Files shipped beside dist/ (and beside src/ in the workspace): found the same way from both builds.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url))

/** The bundled Silero VAD v5 model. */
export const SILERO_MODEL_PATH = join(here, '..', 'models', 'silero_vad_v5.onnx')

/** The worker script: plain ESM, the same file for both builds. */
export const SILERO_WORKER_PATH = join(here, '..', 'worker', 'silero-worker.mjs')
