import type { Logger, VadBackend, VadSegmenterOptions, WhisperBackend } from '@ws/core'
import type { ResolvedServerOptions } from './options.js'

/** The inference side of a server: one backend, its model, and a VAD per session. */
export interface Engine {
  backend: WhisperBackend
  /** Requests the backend can usefully take at once (its scheduler's concurrency). */
  concurrency: number
  backendName: string
  model: string
  /** Whether `close()` of the server closes the backend (false for a backend passed in). */
  owned: boolean
  createVad: () => Promise<VadBackend>
  vadName: string
  vadSegmenter?: VadSegmenterOptions
}

/**
 * Makes the backend (loading, and on first run provisioning, its model) and the VAD factory.
 * The adapters are imported only when chosen, so an unused one costs nothing at start.
 */
export async function createEngine(o: ResolvedServerOptions, logger: Logger): Promise<Engine> {
  const createVad =
    typeof o.vad === 'function'
      ? o.vad
      : o.vad === 'silero'
        ? async () => (await import('@ws/vad-silero')).createVad()
        : async () => (await import('@ws/vad-webrtc')).createVad()
  const vadName = typeof o.vad === 'function' ? 'custom' : o.vad
  // Fail at start, not at the first session, if the VAD cannot be made.
  const probe = await createVad()
  await probe.close?.()

  if (typeof o.backend === 'object') {
    return {
      backend: o.backend,
      concurrency: 1,
      backendName: o.backend.name,
      model: o.model,
      owned: false,
      createVad,
      vadName,
    }
  }
  const common = {
    logger,
    offline: o.offline,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    beamSize: o.beamSize,
  }
  let backend: WhisperBackend
  let concurrency: number
  if (o.backend === 'faster') {
    const { FasterWhisperBackend } = await import('@ws/backend-faster')
    const b = new FasterWhisperBackend({ ...common, ...(o.threads ? { cpuThreads: o.threads } : {}) })
    backend = b
    // The worker batches requests that wait together.
    concurrency = b.options.maxBatch
  } else {
    const { WhisperCppBackend } = await import('@ws/backend-whispercpp')
    backend = new WhisperCppBackend({ ...common, ...(o.threads ? { threads: o.threads } : {}) })
    // One transcription at a time; each already uses every core.
    concurrency = 1
  }
  try {
    await backend.loadModel(o.model)
  } catch (err) {
    await backend.close()
    throw err
  }
  return { backend, concurrency, backendName: backend.name, model: o.model, owned: true, createVad, vadName }
}
