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
import { decodeAudio } from '@ws/core/node'
import type { Engine } from './engine.js'
import type { ServerMetrics } from './metrics.js'

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number]

export interface RestContext {
  engine: Engine
  scheduler: InferenceScheduler
  metrics: ServerMetrics
  maxUploadBytes: number
  logger: Logger
}

const STATUS: Partial<Record<string, number>> = {
  invalid_message: 400,
  invalid_config: 400,
  invalid_audio: 400,
  invalid_wav: 400,
  unsupported_sample_rate: 400,
  audio_too_large: 413,
  unauthorized: 401,
  not_found: 404,
  server_busy: 503,
}

/** Sends an error as OpenAI's API does: `{ error: { message, type, param, code } }`. */
export function sendApiError(res: ServerResponse, error: WsError, param: string | null = null): number {
  const status = STATUS[error.code] ?? 500
  const body = {
    error: {
      message: error.message,
      type: status < 500 ? 'invalid_request_error' : 'server_error',
      param,
      code: error.code,
    },
  }
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
  return status
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) throw tooLarge(limit)
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

/** `POST /v1/audio/transcriptions`, OpenAI-compatible. */
export async function handleTranscription(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RestContext,
): Promise<void> {
  const started = performance.now()
  let status = 200
  try {
    const type = req.headers['content-type'] ?? ''
    if (!type.startsWith('multipart/form-data')) {
      throw new WsError('invalid_message', 'Send multipart/form-data with a "file" field')
    }
    const body = await readBody(req, ctx.maxUploadBytes)
    let form: FormData
    try {
      form = await new Response(body, { headers: { 'content-type': type } }).formData()
    } catch {
      throw new WsError('invalid_message', 'The multipart body could not be parsed')
    }
    const file = form.get('file')
    if (!file || typeof file === 'string') throw new WsError('invalid_message', 'The "file" field is missing')
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
    const audio = await decodeAudio(new Uint8Array(await file.arrayBuffer()))
    if (audio.length === 0) throw new WsError('invalid_audio', 'The file holds no audio')

    const ticket = await ctx.scheduler.gate().acquire('final')
    let result: TranscriptResult
    try {
      result = await ctx.engine.backend.transcribe(audio, WHISPER_SAMPLE_RATE, {
        ...(language ? { language } : {}),
        ...(prompt ? { initialPrompt: prompt } : {}),
        wordTimestamps: words,
      })
    } finally {
      ticket.release(audio.length / WHISPER_SAMPLE_RATE)
    }
    ctx.metrics.transcriptionSeconds.observe({ kind: 'rest' }, (performance.now() - started) / 1000)
    const duration = audio.length / WHISPER_SAMPLE_RATE
    const [contentType, text] = formatTranscript(result, format, duration, words)
    res.writeHead(200, { 'content-type': contentType })
    res.end(text)
  } catch (err) {
    const error = toWsError(err)
    if (error.code === 'internal_error') ctx.logger.error({ err }, 'REST transcription failed')
    status = sendApiError(res, error)
  } finally {
    ctx.metrics.restRequests.inc({ status: String(status) })
  }
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
