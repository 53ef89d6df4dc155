import { abortError, ERROR_CODES, type ErrorCode, type Task, WsError } from '@ws/core'

// A whole file through the server's REST API (`POST /v1/audio/transcriptions`, OpenAI's
// multipart form), with speaker diarization. No Node built-ins: the browser build has it too.

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json', 'diarized_json'] as const
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number]

/** The speaker hints the server takes: integers from 1 to this. */
export const MAX_SPEAKERS = 8

/** A speaker to recognise by name: a short clip of them alone (WAV, or any format the server decodes). */
export interface KnownSpeaker<Audio = Uint8Array | Blob> {
  name: string
  audio: Audio
}

export interface TranscribeFileOptions<Audio = Uint8Array | Blob> {
  /** The server's token (`Authorization: Bearer …`). */
  token?: string
  /** `transcribe` (default) or `translate` (`/v1/audio/translations`: English text). */
  task?: Task
  /** The `model` field: the served model's name or OpenAI's (`whisper-1`); left out by default. */
  model?: string
  /** What the server answers (default `json`; `diarized_json`: speaker turns, diarization implied). */
  responseFormat?: ResponseFormat
  language?: string
  prompt?: string
  temperature?: number
  /** `['word']` adds word times to `verbose_json`. */
  timestampGranularities?: readonly ('word' | 'segment')[]
  /** Who said what: `speaker` on `verbose_json`'s segments and words, `[A]`/`<v A>` tags in `srt`/`vtt`. */
  diarize?: boolean
  /** The number of speakers, when known (1 to {@link MAX_SPEAKERS}). */
  numSpeakers?: number
  minSpeakers?: number
  maxSpeakers?: number
  /** Speakers named from reference clips instead of `A`, `B`, … (sent as data URLs). */
  knownSpeakers?: readonly KnownSpeaker<Audio>[]
  /** The uploaded file's name (default `audio`). */
  filename?: string
  signal?: AbortSignal
  /** How the request is made (default: the global `fetch`). */
  fetch?: typeof fetch
}

/** A word of `verbose_json` (with `timestampGranularities: ['word']`). */
export interface TranscriptionWord {
  word: string
  start: number
  end: number
  /** With `diarize`: who said it (`A`, `B`, … or a known speaker's name). */
  speaker?: string
}

/** A segment of `verbose_json`. */
export interface TranscriptionSegment {
  id: number
  start: number
  end: number
  text: string
  /** With `diarize`: who said it. */
  speaker?: string
}

export interface JsonTranscription {
  text: string
}

export interface VerboseTranscription {
  task: Task
  language: string
  duration: number
  text: string
  segments: TranscriptionSegment[]
  words?: TranscriptionWord[]
}

/** A speaker's turn in `diarized_json` (OpenAI's `transcript.text.segment`). */
export interface DiarizedSegment {
  type: 'transcript.text.segment'
  /** `seg_0`, `seg_1`, … */
  id: string
  start: number
  end: number
  text: string
  /** `A`, `B`, … in order of first appearance, or a known speaker's name. */
  speaker: string
}

export interface DiarizedTranscription {
  task: 'transcribe'
  duration: number
  text: string
  segments: DiarizedSegment[]
  usage?: { type: 'duration'; seconds: number }
}

/** The answer for each `responseFormat`: parsed JSON, or the body's text. */
export type TranscriptionResponse<F extends ResponseFormat = 'json'> = F extends 'diarized_json'
  ? DiarizedTranscription
  : F extends 'verbose_json'
    ? VerboseTranscription
    : F extends 'json'
      ? JsonTranscription
      : string

/**
 * Transcribes a whole file on the server (`POST /v1/audio/transcriptions`). `url` is the
 * server, as for `connect()` (`ws://` and `wss://` become `http://` and `https://`).
 *
 * ```ts
 * const t = await transcribeFile('http://127.0.0.1:8765', bytes, { responseFormat: 'diarized_json' })
 * for (const s of t.segments) console.log(`[${s.speaker}] ${s.text}`)
 * ```
 *
 * Errors are {@link WsError}s: the server's code (`invalid_config`, `unauthorized`,
 * `server_busy` with `retryable`, …), `connection_failed` when it cannot be reached,
 * `aborted` when `signal` aborts, `invalid_config` for a bad hint before anything is sent.
 */
export async function transcribeFile<F extends ResponseFormat = 'json'>(
  url: string,
  audio: Uint8Array | Blob,
  options: TranscribeFileOptions & { responseFormat?: F } = {},
): Promise<TranscriptionResponse<F>> {
  const target = transcriptionUrl(url, options.task)
  const body = await transcriptionForm(audio, options)
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {}
  let res: Response
  try {
    res = await (options.fetch ?? fetch)(target, {
      method: 'POST',
      body,
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } catch (err) {
    if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
    throw new WsError('connection_failed', `Could not reach ${target}: ${causeOf(err)}`, {
      retryable: true,
      cause: err,
    })
  }
  let text: string
  try {
    text = await res.text()
  } catch (err) {
    if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
    throw new WsError('connection_failed', `The answer of ${target} was cut off: ${causeOf(err)}`, {
      retryable: true,
      cause: err,
    })
  }
  if (!res.ok) throw responseError(res.status, text, res.headers.get('retry-after'))
  const format = options.responseFormat ?? 'json'
  if (format === 'text' || format === 'srt' || format === 'vtt') return text as TranscriptionResponse<F>
  try {
    return JSON.parse(text) as TranscriptionResponse<F>
  } catch {
    throw new WsError('invalid_message', `The server's answer is not JSON: ${text.slice(0, 80)}`)
  }
}

/** The REST URL of a server given as for `connect()`: its origin and base path, then `/v1/audio/…`. */
export function transcriptionUrl(url: string, task: Task = 'transcribe'): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new WsError('invalid_config', `Not a URL: ${url}`)
  }
  if (u.protocol === 'ws:') u.protocol = 'http:'
  if (u.protocol === 'wss:') u.protocol = 'https:'
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new WsError('invalid_config', `The URL must be http://, https://, ws:// or wss://, got ${url}`)
  }
  const at = u.pathname.indexOf('/ws/transcribe/')
  const base = (at >= 0 ? u.pathname.slice(0, at) : u.pathname).replace(/\/$/, '')
  u.pathname = `${base}/v1/audio/${task === 'translate' ? 'translations' : 'transcriptions'}`
  u.search = ''
  u.hash = ''
  return u.toString()
}

/** The multipart form of a request: OpenAI's fields, and the diarization fields and hints. */
export async function transcriptionForm(
  audio: Uint8Array | Blob,
  options: TranscribeFileOptions = {},
): Promise<FormData> {
  const hints = {
    num_speakers: options.numSpeakers,
    min_speakers: options.minSpeakers,
    max_speakers: options.maxSpeakers,
  }
  for (const [name, value] of Object.entries(hints)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= MAX_SPEAKERS)) {
      throw new WsError(
        'invalid_config',
        `${name} must be an integer from 1 to ${MAX_SPEAKERS}, got ${value}`,
      )
    }
  }
  if (options.minSpeakers !== undefined && options.maxSpeakers !== undefined) {
    if (options.minSpeakers > options.maxSpeakers) {
      throw new WsError('invalid_config', 'min_speakers must not be above max_speakers')
    }
  }
  const format = options.responseFormat ?? 'json'
  if (!RESPONSE_FORMATS.includes(format)) {
    throw new WsError('invalid_config', `responseFormat must be one of ${RESPONSE_FORMATS.join(', ')}`)
  }
  const form = new FormData()
  form.append('file', audio instanceof Blob ? audio : new Blob([copy(audio)]), options.filename ?? 'audio')
  const fields: [string, string | number | undefined][] = [
    ['model', options.model],
    ['response_format', format],
    ['language', options.language],
    ['prompt', options.prompt],
    ['temperature', options.temperature],
    ['diarize', options.diarize ? 'true' : undefined],
    ...Object.entries(hints),
  ]
  for (const [name, value] of fields) if (value !== undefined) form.append(name, String(value))
  for (const g of options.timestampGranularities ?? []) form.append('timestamp_granularities[]', g)
  for (const known of options.knownSpeakers ?? []) {
    if (!known.name.trim()) throw new WsError('invalid_config', 'A known speaker needs a name')
    const bytes = known.audio instanceof Blob ? new Uint8Array(await known.audio.arrayBuffer()) : known.audio
    form.append('known_speaker_names[]', known.name)
    form.append('known_speaker_references[]', audioDataUrl(bytes))
  }
  return form
}

/** Audio bytes as a data URL (`data:audio/wav;base64,…`), its type sniffed from the bytes. */
export function audioDataUrl(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return `data:${audioMimeType(bytes)};base64,${btoa(binary)}`
}

function audioMimeType(b: Uint8Array): string {
  const ascii = (at: number, text: string) => [...text].every((c, i) => b[at + i] === c.charCodeAt(0))
  if (ascii(0, 'RIFF') && ascii(8, 'WAVE')) return 'audio/wav'
  if (ascii(0, 'OggS')) return 'audio/ogg'
  if (ascii(0, 'fLaC')) return 'audio/flac'
  if (ascii(0, 'ID3') || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)) return 'audio/mpeg'
  if (ascii(4, 'ftyp')) return 'audio/mp4'
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'audio/webm'
  return 'application/octet-stream'
}

/** The server's error body (`{ error: { message, code } }`, as OpenAI's) as a {@link WsError}. */
export function responseError(status: number, body: string, retryAfter?: string | null): WsError {
  let message = `The server answered HTTP ${status}`
  let code: ErrorCode | undefined
  try {
    const e = (JSON.parse(body) as { error?: { message?: unknown; code?: unknown } }).error
    if (typeof e?.message === 'string') message = e.message
    if ((ERROR_CODES as readonly unknown[]).includes(e?.code)) code = e?.code as ErrorCode
  } catch {}
  code ??=
    status === 401
      ? 'unauthorized'
      : status === 404
        ? 'not_found'
        : status === 413
          ? 'audio_too_large'
          : status === 429 || status === 503
            ? 'server_busy'
            : status < 500
              ? 'invalid_message'
              : 'internal_error'
  const retryAfterMs = retryAfter && Number(retryAfter) >= 0 ? Number(retryAfter) * 1000 : undefined
  return new WsError(code, message, {
    retryable: status === 429 || status === 503,
    details: { status, ...(retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }) },
  })
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  return String(cause?.code ?? cause?.message ?? (err as Error).message ?? err)
}
