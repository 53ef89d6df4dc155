import { homedir } from 'node:os'
import { join } from 'node:path'

/** The project's cache directory: `$WS_CACHE_DIR`, else `$XDG_CACHE_HOME/whisper-stream`, else `~/.cache/whisper-stream`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WS_CACHE_DIR) return env.WS_CACHE_DIR
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'whisper-stream')
}

/** Where models live: `$WS_MODELS_DIR`, else `<cacheDir>/models`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WS_MODELS_DIR || join(cacheDir(env), 'models')
}
