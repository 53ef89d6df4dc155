import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { WsError } from '@ws/core'
import {
  type ResponseFormat,
  type TranscribeFileOptions,
  type TranscriptionResponse,
  transcribeFile as transcribeBytes,
} from './rest.js'

/** In Node a file, or a known speaker's clip, may also be given by its path. */
export type AudioFile = string | Uint8Array | Blob

/**
 * Transcribes a whole file on the server (`POST /v1/audio/transcriptions`): the file and the
 * known speakers' clips as paths, bytes or Blobs. See the browser build's `transcribeFile`
 * (the same, without paths) for the options, the answers and the errors.
 */
export async function transcribeFile<F extends ResponseFormat = 'json'>(
  url: string,
  audio: AudioFile,
  options: TranscribeFileOptions<AudioFile> & { responseFormat?: F } = {},
): Promise<TranscriptionResponse<F>> {
  const { knownSpeakers: known, ...rest } = options
  const knownSpeakers = known
    ? await Promise.all(known.map(async (k) => ({ name: k.name, audio: await bytesOf(k.audio) })))
    : undefined
  return transcribeBytes(url, await bytesOf(audio), {
    ...rest,
    ...(typeof audio === 'string' && options.filename === undefined ? { filename: basename(audio) } : {}),
    ...(knownSpeakers ? { knownSpeakers } : {}),
  })
}

async function bytesOf(audio: AudioFile): Promise<Uint8Array | Blob> {
  if (typeof audio !== 'string') return audio
  try {
    return await readFile(audio)
  } catch (err) {
    throw new WsError('invalid_config', `Cannot read ${audio}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
}
