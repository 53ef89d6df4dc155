import { WsError } from '@ws/core'

/**
 * Imports an adapter package. The server depends on its defaults (whisper.cpp, WebRTC VAD);
 * the others are optional peer dependencies, installed by the user who chooses them. A missing
 * one is `invalid_config` with a one-line message naming the package to add.
 */
export async function importAdapter<T>(load: () => Promise<T>, pkg: string, choice: string): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(pkg))
      throw new WsError(
        'invalid_config',
        `${choice} needs ${pkg}, which is not installed: npm install ${pkg}`,
        {
          cause: err,
        },
      )
    throw err
  }
}
