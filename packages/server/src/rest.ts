import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename } from 'node:path'
import { isWhisperLanguage, type Segment, type Task, type TranscriptResult, WsError } from '@ws/core'
import type { Engine } from './engine.js'
import { diarizedSegments, readDiarizeFields, round, speakerCue } from './rest-diarize.js'
import { httpStatus, type RestCall, type RestContext, runRestJob } from './rest-job.js'

export type { RestContext } from './rest-job.js'

/** OpenAI's REST routes and the task each runs. */
export const OPENAI_REST_TASKS: Record<string, Task | undefined> = {
  '/v1/audio/transcriptions': 'transcribe',
  '/v1/audio/translations': 'translate',
}

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json', 'diarized_json'] as const
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number]

/** Names a client may ask for: OpenAI's transcription models, all served by this server's model. */
export const OPENAI_MODEL_ALIASES = [
  'whisper-1',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-transcribe-diarize',
] as const

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
  const status = options.status ?? httpStatus(error)
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

function stringField(form: FormData, name: string): string | undefined {
  const value = form.get(name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `POST /v1/audio/transcriptions` (`task` `transcribe`, the default) and
 * `POST /v1/audio/translations` (`translate`: English text from speech in any language), as
 * OpenAI's API: a multipart form with `file`, `model`, `prompt`, `response_format`,
 * `temperature`, `language` (the spoken one; OpenAI's translations leave it to the model) and
 * `timestamp_granularities[]`. Bounded and scheduled as every REST job (see
 * {@link runRestJob}). A translation on an English-only model is refused at once with 400
 * `invalid_config` (`param: "model"`), its body discarded and nothing decoded.
 */
export async function handleTranscription(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RestContext,
  options: { task?: Task } = {},
): Promise<void> {
  const task = options.task ?? 'transcribe'
  if (task === 'translate' && englishOnly(ctx.engine)) {
    req.resume()
    const error = new WsError(
      'invalid_config',
      `The served model "${ctx.engine.model}" is English-only and cannot translate; serve a multilingual one (e.g. base)`,
    )
    const status = sendApiError(res, error, { param: 'model' })
    ctx.metrics.restRequests.inc({ status: String(status) })
    return
  }
  await runRestJob(req, res, ctx, {
    sendError: sendApiError,
    read: (body) => readForm(req, res, body, ctx, task),
  })
}

/** `POST /v1/audio/translations`: {@link handleTranscription} with `task: 'translate'`. */
export function handleTranslation(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RestContext,
): Promise<void> {
  return handleTranscription(req, res, ctx, { task: 'translate' })
}

/**
 * Whether the served model is English-only: as its backend says once loaded, else by its
 * name (`tiny.en`, `ggml-base.en.bin`).
 */
export function englishOnly(engine: Engine): boolean {
  const multilingual = (engine.backend as { multilingual?: unknown }).multilingual
  if (typeof multilingual === 'boolean') return !multilingual
  return /\.en(\.bin)?$/i.test(basename(engine.model))
}

/** The multipart form, checked: what to transcribe and how to answer. */
async function readForm(
  req: IncomingMessage,
  res: ServerResponse,
  body: () => Promise<Buffer>,
  ctx: RestContext,
  task: Task,
): Promise<RestCall> {
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('multipart/form-data')) {
    throw new WsError('invalid_message', 'Send multipart/form-data with a "file" field')
  }
  let form: FormData
  const bytes = await body()
  try {
    form = await new Response(bytes, { headers: { 'content-type': type } }).formData()
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
  if (language !== undefined && !isWhisperLanguage(language)) {
    throw new WsError(
      'invalid_config',
      `language must be an ISO-639-1 code Whisper knows such as "en", got "${language}"`,
    )
  }
  const granularities = form
    .getAll('timestamp_granularities[]')
    .concat(form.getAll('timestamp_granularities'))
  const words = granularities.includes('word')
  if (format === 'diarized_json' && task === 'translate')
    throw new WsError('invalid_config', 'diarized_json is for transcriptions')
  const diarize = task === 'transcribe' ? readDiarizeFields(form, format === 'diarized_json') : undefined
  const temperature = stringField(form, 'temperature')
  if (temperature !== undefined && !(Number(temperature) >= 0 && Number(temperature) <= 1)) {
    throw new WsError('invalid_config', 'temperature must be from 0 to 1')
  }
  return {
    audio: {
      bytes: new Uint8Array(await file.arrayBuffer()),
      task,
      language,
      prompt: stringField(form, 'prompt'),
      wordTimestamps: words,
      ...(diarize ? { diarize } : {}),
    },
    answer: (result, duration) => {
      const [contentType, text] = formatTranscript(result, format, duration, words, task)
      res.writeHead(200, { 'content-type': contentType })
      res.end(text)
    },
  }
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
  task: Task = 'transcribe',
): [contentType: string, body: string] {
  const text = result.text.trim()
  switch (format) {
    case 'text':
      return ['text/plain; charset=utf-8', `${text}\n`]
    case 'srt':
      return ['text/plain; charset=utf-8', toSrt(result.segments)]
    case 'vtt':
      return ['text/vtt; charset=utf-8', toVtt(result.segments)]
    case 'diarized_json':
      return [
        'application/json',
        JSON.stringify({
          task: 'transcribe',
          duration: round(duration),
          text,
          segments: diarizedSegments(result.segments),
          usage: { type: 'duration', seconds: Math.ceil(duration) },
        }),
      ]
    case 'verbose_json':
      return [
        'application/json',
        JSON.stringify({
          task,
          // A translation's is its text's (OpenAI: "always english"); the spoken one otherwise.
          language: task === 'translate' ? 'en' : result.language,
          duration: round(duration),
          text,
          segments: result.segments.map((s, id) => ({
            id,
            start: round(s.start),
            end: round(s.end),
            text: s.text,
            ...(s.speaker === undefined ? {} : { speaker: s.speaker }),
          })),
          ...(words
            ? {
                words: result.segments.flatMap((s) =>
                  (s.words ?? []).map((w) => ({
                    word: w.text.trim(),
                    start: round(w.start),
                    end: round(w.end),
                    ...(w.speaker === undefined ? {} : { speaker: w.speaker }),
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
    .map(
      (s, i) =>
        `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${speakerCue(s, 'srt')}\n`,
    )
    .join('\n')
}

export function toVtt(segments: readonly Segment[]): string {
  const cues = segments.map(
    (s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${speakerCue(s, 'vtt')}\n`,
  )
  return `WEBVTT\n\n${cues.join('\n')}`
}
