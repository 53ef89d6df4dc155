import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type InferenceScheduler,
  type Logger,
  type Segment,
  type TranscriptResult,
  toWsError,
  WHISPER_SAMPLE_RATE,
  WsError,
} from '@ws/core'
import { decodeAudioStream } from '@ws/core/node'
import type { Engine } from './engine.js'
import type { ServerMetrics } from './metrics.js'
import type { RestJobs } from './rest-jobs.js'
import { transcribeInWindows } from './windows.js'

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number]

export interface RestContext {
  engine: Engine
  scheduler: InferenceScheduler
  metrics: ServerMetrics
  maxUploadBytes: number
  /** Longest audio transcribed, in seconds (checked from a WAV header before decoding). */
  maxFileSeconds: number
  jobs: RestJobs
  logger: Logger
}

/** Names a client may ask for: OpenAI's transcription models, all served by this server's model. */
export const OPENAI_MODEL_ALIASES = ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'] as const

const STATUS: Partial<Record<string, number>> = {
  invalid_message: 400,
  invalid_config: 400,
  invalid_audio: 400,
  invalid_wav: 400,
  unsupported_sample_rate: 400,
  audio_too_large: 413,
  unauthorized: 401,
  not_found: 404,
  model_not_found: 404,
  server_busy: 503,
  aborted: 499,
}

/**
 * Sends an error as OpenAI's API does: `{ error: { message, type, param, code } }`, with the
 * code's HTTP status unless `status` says otherwise (429 for too many jobs at once).
 */
export function sendApiError(
  res: ServerResponse,
  error: WsError,
  options: { param?: string | null; headers?: Record<string, string>; status?: number } = {},
): number {
  const { param = null, headers = {} } = options
  const status = options.status ?? STATUS[error.code] ?? 500
  if (res.headersSent || res.destroyed) return status
  const body = {
    error: {
      message: error.message,
      type: status < 500 ? 'invalid_request_error' : 'server_error',
      param,
      code: error.code,
    },
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
  return status
}

async function readBody(req: IncomingMessage, limit: number, res: ServerResponse): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) {
    // Not read: the refusal goes out with Connection: close and the socket ends after it.
    res.once('finish', () => req.destroy())
    throw tooLarge(limit)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function tooLarge(limit: number) {
  return new WsError('audio_too_large', `The upload is over the ${limit}-byte limit`)
}

function stringField(form: FormData, name: string): string | undefined {
  const value = form.get(name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `POST /v1/audio/transcriptions`, OpenAI-compatible, bounded: at most `jobs.max` at once (429
 * with `Retry-After` past that; the body is discarded unread), a body of at most `maxUploadBytes`
 * (refused from `Content-Length` without reading it: the connection is closed), audio of at
 * most `maxFileSeconds`, decoded a piece at a time off the event loop's critical path and
 * transcribed in windows at pauses, each after the live sessions' finals. The job stops when
 * its client leaves, and gets a typed 503 when the server shuts down under it.
 */
export async function handleTranscription(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RestContext,
): Promise<void> {
  const started = performance.now()
  let status = 200
  const job = ctx.jobs.start()
  if ('refusal' in job) {
    // The body is discarded as it comes (not kept): clients read the answer after uploading.
    req.resume()
    status = sendApiError(res, job.refusal, {
      status: 429,
      headers: { 'retry-after': String(Math.ceil(job.retryAfterMs / 1000)) },
    })
    ctx.metrics.restRequests.inc({ status: String(status) })
    return
  }
  // A client that leaves stops its job (the body unread, the decoding, the windows left).
  const left = new AbortController()
  const onClose = () => {
    if (!res.writableFinished) left.abort(new WsError('aborted', 'The client left'))
  }
  res.once('close', onClose)
  const signal = AbortSignal.any([job.signal, left.signal])
  try {
    const type = req.headers['content-type'] ?? ''
    if (!type.startsWith('multipart/form-data')) {
      throw new WsError('invalid_message', 'Send multipart/form-data with a "file" field')
    }
    const body = await readBody(req, ctx.maxUploadBytes, res)
    let form: FormData
    try {
      form = await new Response(body, { headers: { 'content-type': type } }).formData()
    } catch {
      throw new WsError('invalid_message', 'The multipart body could not be parsed')
    }
    const file = form.get('file')
    if (!file || typeof file === 'string') throw new WsError('invalid_message', 'The "file" field is missing')
    checkModel(stringField(form, 'model'), ctx.engine.model)
    const format = (stringField(form, 'response_format') ?? 'json') as ResponseFormat
    if (!RESPONSE_FORMATS.includes(format)) {
      throw new WsError('invalid_config', `response_format must be one of ${RESPONSE_FORMATS.join(', ')}`)
    }
    const language = stringField(form, 'language')
    if (language !== undefined && !/^[a-z]{2,3}$/.test(language)) {
      throw new WsError(
        'invalid_config',
        `language must be an ISO-639-1 code such as "en", got "${language}"`,
      )
    }
    const prompt = stringField(form, 'prompt')
    const granularities = form
      .getAll('timestamp_granularities[]')
      .concat(form.getAll('timestamp_granularities'))
    const words = granularities.includes('word')
    const temperature = stringField(form, 'temperature')
    if (temperature !== undefined && !(Number(temperature) >= 0 && Number(temperature) <= 1)) {
      throw new WsError('invalid_config', 'temperature must be from 0 to 1')
    }
    const bytes = new Uint8Array(await file.arrayBuffer())
    const decoding = {
      maxSeconds: ctx.maxFileSeconds,
      signal,
      onDuration: (seconds: number) => {
        job.totalSeconds = seconds
      },
    }
    let decoded = 0
    const chunks = (async function* () {
      for await (const chunk of decodeAudioStream(bytes, decoding)) {
        decoded += chunk.length
        yield chunk
      }
    })()
    const result = await transcribeInWindows(chunks, {
      backend: ctx.engine.backend,
      gate: ctx.scheduler.gate({ bulk: true }),
      signal,
      language,
      prompt,
      wordTimestamps: words,
      onProgress: (seconds) => {
        job.doneSeconds = seconds
      },
    })
    const duration = decoded / WHISPER_SAMPLE_RATE
    if (duration === 0) throw new WsError('invalid_audio', 'The file holds no audio')
    ctx.metrics.transcriptionSeconds.observe({ kind: 'rest' }, (performance.now() - started) / 1000)
    const [contentType, text] = formatTranscript(result, format, duration, words)
    res.writeHead(200, { 'content-type': contentType })
    res.end(text)
  } catch (err) {
    const reason: unknown = job.signal.reason
    // Shut down under it: the server's own typed error, not "aborted".
    const error = job.signal.aborted && reason instanceof WsError ? reason : toWsError(err)
    if (error.code === 'internal_error') ctx.logger.error({ err }, 'REST transcription failed')
    if (left.signal.aborted) ctx.logger.info('REST client left; its transcription stopped')
    status = left.signal.aborted ? 499 : sendApiError(res, error, { headers: closeAfter(error) })
  } finally {
    res.off('close', onClose)
    job.done()
    ctx.metrics.restRequests.inc({ status: String(status) })
  }
}

/** An upload refused before it was read whole: the connection closes instead of reading the rest. */
function closeAfter(error: WsError): Record<string, string> {
  return error.code === 'audio_too_large' ? { connection: 'close' } : {}
}

/** The `model` field: OpenAI's names and the served model's name; any other is `model_not_found`. */
function checkModel(asked: string | undefined, served: string): void {
  if (asked === undefined || asked === served) return
  if ((OPENAI_MODEL_ALIASES as readonly string[]).includes(asked)) return
  throw new WsError(
    'model_not_found',
    `This server transcribes with "${served}"; ask for it or for ${OPENAI_MODEL_ALIASES.join(', ')} (got "${asked}")`,
  )
}

/** The response body for a `response_format`. */
export function formatTranscript(
  result: TranscriptResult,
  format: ResponseFormat,
  duration: number,
  words = false,
): [contentType: string, body: string] {
  const text = result.text.trim()
  switch (format) {
    case 'text':
      return ['text/plain; charset=utf-8', `${text}\n`]
    case 'srt':
      return ['text/plain; charset=utf-8', toSrt(result.segments)]
    case 'vtt':
      return ['text/vtt; charset=utf-8', toVtt(result.segments)]
    case 'verbose_json':
      return [
        'application/json',
        JSON.stringify({
          task: 'transcribe',
          language: result.language,
          duration: round(duration),
          text,
          segments: result.segments.map((s, id) => ({
            id,
            start: round(s.start),
            end: round(s.end),
            text: s.text,
          })),
          ...(words
            ? {
                words: result.segments.flatMap((s) =>
                  (s.words ?? []).map((w) => ({
                    word: w.text.trim(),
                    start: round(w.start),
                    end: round(w.end),
                  })),
                ),
              }
            : {}),
        }),
      ]
    default:
      return ['application/json', JSON.stringify({ text })]
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function timestamp(seconds: number, separator: string): string {
  const ms = Math.max(0, Math.round(seconds * 1000))
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = Math.floor((ms % 60_000) / 1000)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`
}

export function toSrt(segments: readonly Segment[]): string {
  return segments
    .map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text.trim()}\n`)
    .join('\n')
}

export function toVtt(segments: readonly Segment[]): string {
  const cues = segments.map(
    (s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text.trim()}\n`,
  )
  return `WEBVTT\n\n${cues.join('\n')}`
}
