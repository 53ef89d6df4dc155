import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { isWsError, WsError } from '@ws/core'
import { EXIT_CODES as EXIT, UsageError } from '@ws/core/node'
import { transcribeFile } from './node-rest.js'
import type {
  DiarizedTranscription,
  KnownSpeaker,
  TranscribeFileOptions,
  VerboseTranscription,
} from './rest.js'
import { formatTurns, segmentsToSrt, segmentsToVtt } from './speaker-format.js'

// `ws-transcribe <file> --diarize` and `--format srt|vtt`: the whole file through the server's
// REST API (diarization on the whole recording finds the speakers better than live), printed
// as speaker turns or subtitles.

export const OUTPUT_FORMATS = ['text', 'srt', 'vtt'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export interface FileCommand {
  url: string
  /** A path, or the bytes read from stdin. */
  input: string | Uint8Array
  token?: string | undefined
  language?: string | undefined
  diarize: boolean
  format: OutputFormat
  /** Print the server's JSON answer as it is. */
  json: boolean
  numSpeakers?: number | undefined
  minSpeakers?: number | undefined
  maxSpeakers?: number | undefined
  /** `--speaker NAME=FILE`: clips of known speakers. */
  speakers: readonly KnownSpeaker<string>[]
}

export interface Output {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/** `--speaker NAME=FILE` as a known speaker; a usage error when it is not that. */
export function parseSpeakerArg(arg: string): KnownSpeaker<string> {
  const at = arg.indexOf('=')
  const name = arg.slice(0, Math.max(0, at)).trim()
  const file = arg.slice(at + 1)
  if (at < 0 || !name || !file) throw new UsageError(`--speaker takes NAME=FILE, got "${arg}"`)
  return { name, audio: file }
}

/** The request a command makes: a diarized transcript (`diarized_json`) or timed segments. */
export function fileRequest(c: FileCommand): TranscribeFileOptions & {
  responseFormat: 'diarized_json' | 'verbose_json'
} {
  return {
    responseFormat: c.diarize ? 'diarized_json' : 'verbose_json',
    ...(c.token ? { token: c.token } : {}),
    ...(c.language ? { language: c.language } : {}),
    ...(c.numSpeakers !== undefined ? { numSpeakers: c.numSpeakers } : {}),
    ...(c.minSpeakers !== undefined ? { minSpeakers: c.minSpeakers } : {}),
    ...(c.maxSpeakers !== undefined ? { maxSpeakers: c.maxSpeakers } : {}),
  }
}

/** What is printed for the server's answer. */
export function formatAnswer(
  answer: DiarizedTranscription | VerboseTranscription,
  format: OutputFormat,
): string {
  if (format === 'srt') return segmentsToSrt(answer.segments)
  if (format === 'vtt') return segmentsToVtt(answer.segments)
  // Turns print `[?]` for a segment without a speaker: only a diarized answer is shown so.
  const diarized = answer.segments.some((s) => s.speaker !== undefined)
  return diarized ? formatTurns(answer.segments) : `${answer.text.trim()}\n`
}

/** Runs the command; the exit code. Unreadable files are usage errors, before any request. */
export async function runFileCommand(c: FileCommand, out: Output): Promise<number> {
  const bytes = await readOrUsage(c.input)
  const knownSpeakers = []
  for (const k of c.speakers) knownSpeakers.push({ name: k.name, audio: await readOrUsage(k.audio) })
  const started = performance.now()
  let answer: DiarizedTranscription | VerboseTranscription
  try {
    answer = await transcribeFile(c.url, bytes, {
      ...fileRequest(c),
      ...(typeof c.input === 'string' ? { filename: basename(c.input) } : {}),
      ...(knownSpeakers.length > 0 ? { knownSpeakers } : {}),
    })
  } catch (err) {
    const error = isWsError(err) ? err : new WsError('internal_error', String(err))
    out.stderr(`ws-transcribe: ${error.code}: ${error.message}\n`)
    return error.code === 'connection_failed'
      ? EXIT.connection
      : error.code === 'internal_error' && !isWsError(err)
        ? EXIT.failure
        : EXIT.server
  }
  const seconds = (performance.now() - started) / 1000
  out.stdout(c.json ? `${JSON.stringify(answer)}\n` : formatAnswer(answer, c.format))
  const speakers = [...new Set(answer.segments.flatMap((s) => (s.speaker === undefined ? [] : [s.speaker])))]
  out.stderr(
    `${c.diarize ? `speakers: ${speakers.length}${speakers.length > 0 ? ` (${speakers.join(', ')})` : ''}, ` : ''}audio ${answer.duration.toFixed(2)} s, transcribed in ${seconds.toFixed(2)} s\n`,
  )
  return EXIT.ok
}

async function readOrUsage(input: string | Uint8Array): Promise<Uint8Array> {
  if (typeof input !== 'string') return input
  try {
    return await readFile(input)
  } catch (err) {
    throw new UsageError(`Cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
}
