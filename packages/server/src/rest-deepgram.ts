import { createHash, randomUUID } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import {
  checkSessionOption,
  normalizeWord,
  requestUrl,
  type TranscriptResult,
  toWsError,
  type Word,
  WsError,
} from '@ws/core'
import { deepgramWord, modelUuid, speakerNumber } from './protocols/deepgram.js'
import { httpStatus, type RestContext, runRestJob, type SendError } from './rest-job.js'

/** What `POST /v1/listen` needs beyond every REST endpoint's context. */
export interface DeepgramContext extends RestContext {
  /**
   * The request carries the server's token, or the server has none (the server's own check:
   * `Authorization: Token <key>` as Deepgram's SDKs send it, `Bearer <key>`, `?token=`).
   * False: 401 `INVALID_AUTH`, the body unread.
   */
  authorized: boolean
  /** The server is shutting down: 503, the body unread. */
  closing: boolean
}

/** The query parameters that change the answer (Deepgram's names); any other is accepted and ignored. */
export interface ListenQuery {
  /** ISO 639-1 (`en-US` → `en`); undefined (`multi`, `detect_language`, none given): detected. */
  language: string | undefined
  /** `punctuate` or `smart_format`: the transcript as Whisper wrote it; else lower case, unpunctuated. */
  punctuate: boolean
  /** One utterance per Whisper segment in `results.utterances`. */
  utterances: boolean
  /**
   * Speakers found by `@ws/diarize` (as the OpenAI endpoint's `diarize=true`): each word and
   * utterance gets `speaker`, numbered from 0 in order of first appearance.
   */
  diarize: boolean
}

export interface ListenWord {
  /** Lower case, without punctuation (apostrophes kept). */
  word: string
  start: number
  end: number
  confidence: number
  /** As Whisper wrote it. */
  punctuated_word: string
  speaker?: number
}

export interface ListenUtterance {
  id: string
  start: number
  end: number
  confidence: number
  channel: 0
  transcript: string
  words: ListenWord[]
  speaker?: number
}

/** Deepgram's pre-recorded response, with the fields this server fills. */
export interface ListenResponse {
  metadata: {
    transaction_key: 'deprecated'
    request_id: string
    /** Of the request's body. */
    sha256: string
    created: string
    duration: number
    channels: 1
    models: string[]
    model_info: Record<string, { name: string; version: string; arch: string }>
  }
  results: {
    channels: {
      alternatives: { transcript: string; confidence: number; words: ListenWord[] }[]
      detected_language?: string
    }[]
    utterances?: ListenUtterance[]
  }
}

/**
 * `POST /v1/listen`, Deepgram's pre-recorded transcription: the body is the audio file
 * itself (any `Content-Type`: `audio/wav`, `audio/*`, `application/octet-stream`…; decoded
 * as the OpenAI endpoint's uploads are), the options are query parameters
 * ({@link parseListenQuery}), the answer is Deepgram's JSON with word times. Bounded and
 * scheduled as every REST job ({@link runRestJob}). A JSON body (`{"url": …}`) is a 400: this
 * server fetches no URLs. Errors come in Deepgram's shape ({@link sendDeepgramError}); every
 * response carries the request's id in `dg-request-id` and `x-request-id`.
 */
export async function handleDeepgramListen(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: DeepgramContext,
): Promise<void> {
  const requestId = randomUUID()
  const created = new Date().toISOString()
  const sendError: SendError = (r, error, options) => sendDeepgramError(r, error, requestId, options)
  const refuse = (error: WsError) => {
    req.resume()
    ctx.metrics.restRequests.inc({ status: String(sendError(res, error)) })
  }
  if (!ctx.authorized) {
    ctx.metrics.refusals.inc({ reason: 'auth' })
    return refuse(new WsError('unauthorized', 'Invalid credentials.'))
  }
  if (ctx.closing)
    return refuse(new WsError('server_busy', 'The server is shutting down', { retryable: true }))
  let query: ListenQuery
  try {
    query = parseListenQuery(requestUrl(req.url).searchParams)
  } catch (err) {
    return refuse(toWsError(err, 'invalid_config'))
  }
  await runRestJob(req, res, ctx, {
    sendError,
    read: async (body) => {
      const bytes = await body()
      refuseJson(req.headers['content-type'], bytes)
      if (bytes.length === 0) {
        throw new WsError('invalid_audio', 'The body is empty: send the audio file itself as the body')
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      return {
        audio: {
          bytes,
          language: query.language,
          wordTimestamps: true,
          ...(query.diarize ? { diarize: {} } : {}),
        },
        answer: (result, duration) => {
          const answer = listenResponse(result, duration, query, {
            requestId,
            sha256,
            created,
            model: ctx.engine.model,
          })
          res.writeHead(200, { 'content-type': 'application/json', ...requestIdHeaders(requestId) })
          res.end(JSON.stringify(answer))
        },
      }
    },
  })
}

/**
 * Sends an error as Deepgram's REST API does: `{ err_code, err_msg, request_id }`, `err_code`
 * being `INVALID_AUTH` for a 401 and the status's reason phrase otherwise (`Bad Request`,
 * `Payload Too Large`, `Too Many Requests`, `Service Unavailable`).
 */
export function sendDeepgramError(
  res: ServerResponse,
  error: WsError,
  requestId: string,
  options: { status?: number; headers?: Record<string, string> } = {},
): number {
  const status = options.status ?? httpStatus(error)
  if (res.headersSent || res.destroyed) return status
  const body = {
    err_code: status === 401 ? 'INVALID_AUTH' : (STATUS_CODES[status] ?? 'Error'),
    err_msg: error.message,
    request_id: requestId,
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    ...requestIdHeaders(requestId),
    ...options.headers,
  })
  res.end(JSON.stringify(body))
  return status
}

/**
 * Deepgram's query parameters: `language` (`en`, `en-US` → `en`; `multi` or
 * `detect_language=true`: detected), `punctuate`, `smart_format`, `utterances`, `diarize`
 * (`true` or `false`). `model` takes any name (the server's model answers), and every other
 * parameter is ignored. A malformed `language` or flag is `invalid_config`.
 */
export function parseListenQuery(params: URLSearchParams): ListenQuery {
  const flag = (name: string) => {
    const value = params.get(name)
    if (value === null || value === 'false') return false
    if (value === 'true') return true
    throw new WsError('invalid_config', `${name} must be true or false, got "${value}"`)
  }
  const detect = (params.get('detect_language') ?? 'false') !== 'false'
  const asked = params.get('language') ?? ''
  let language: string | undefined
  if (!detect && asked !== '' && asked !== 'multi') {
    // As the live endpoint reads it: the primary subtag, a code Whisper knows.
    const code = checkSessionOption('language', asked.split(/[-_]/)[0]!.toLowerCase())
    language = code === 'auto' ? undefined : code
  }
  return {
    language,
    punctuate: flag('punctuate') || flag('smart_format'),
    utterances: flag('utterances'),
    diarize: flag('diarize'),
  }
}

/** The request's id in the headers Deepgram's clients read (v5's errors: `x-request-id`). */
function requestIdHeaders(requestId: string): Record<string, string> {
  return { 'dg-request-id': requestId, 'x-request-id': requestId }
}

/** A JSON body is a URL to fetch (Deepgram's other request form), which this server does not do. */
function refuseJson(contentType: string | undefined, bytes: Buffer): void {
  const json = /^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType ?? '')
  let parsed: unknown
  if (json || bytes[0] === 0x7b /* { */) {
    try {
      parsed = JSON.parse(bytes.toString('utf8'))
    } catch {
      if (json)
        throw new WsError('invalid_message', 'Content-Type is application/json, but the body is not JSON')
      return
    }
  }
  if (json || (typeof parsed === 'object' && parsed !== null && 'url' in parsed)) {
    throw new WsError(
      'invalid_message',
      'This server fetches no URLs: send the audio file itself as the body (Content-Type: audio/wav, audio/*, or application/octet-stream)',
    )
  }
}

/** The 200 body for a transcript of `duration` seconds. */
export function listenResponse(
  result: TranscriptResult,
  duration: number,
  query: ListenQuery,
  meta: { requestId: string; sha256: string; created: string; model: string },
): ListenResponse {
  const segments = result.segments.map((s) => ({
    segment: s,
    words: listenWords(s.words ?? [], duration, query),
  }))
  const words = segments.flatMap((s) => s.words)
  const plain = (ws: ListenWord[]) => ws.map((w) => w.word).join(' ')
  const transcript = query.punctuate ? result.text.trim().replace(/\s+/g, ' ') : plain(words)
  const uuid = modelUuid(meta.model)
  const channel: ListenResponse['results']['channels'][number] = {
    alternatives: [{ transcript, confidence: meanConfidence(words), words }],
    ...(query.language === undefined ? { detected_language: result.language } : {}),
  }
  return {
    metadata: {
      transaction_key: 'deprecated',
      request_id: meta.requestId,
      sha256: meta.sha256,
      created: meta.created,
      duration: round(duration, 3),
      channels: 1,
      models: [uuid],
      // As the live endpoint reports the model.
      model_info: { [uuid]: { name: meta.model, version: '1', arch: 'whisper' } },
    },
    results: {
      channels: [channel],
      ...(query.utterances
        ? {
            utterances: segments
              .filter(({ segment, words }) => words.length > 0 || segment.text.trim() !== '')
              .map(({ segment, words }) => ({
                id: randomUUID(),
                start: round(clamp(segment.start, 0, duration), 3),
                end: round(clamp(segment.end, 0, duration), 3),
                confidence: meanConfidence(words),
                channel: 0 as const,
                transcript: query.punctuate ? segment.text.trim() : plain(words),
                words,
                // Segments are split where the speaker changes: one speaker each.
                ...(query.diarize ? { speaker: speakerNumber(segment.speaker ?? 'A') } : {}),
              })),
          }
        : {}),
    },
  }
}

/**
 * Whisper's words as Deepgram's (as the live endpoint writes them: `word` lower case without
 * punctuation, `punctuated_word` as written); a word of punctuation only is left out, and the
 * times stay within the audio and never go back.
 */
function listenWords(words: readonly Word[], duration: number, query: ListenQuery): ListenWord[] {
  const out: ListenWord[] = []
  let last = 0
  for (const w of words) {
    if (normalizeWord(w.text) === '') continue
    const start = clamp(Math.max(w.start, last), 0, duration)
    last = start
    out.push(
      deepgramWord({
        ...w,
        start,
        end: clamp(w.end, start, duration),
        ...(query.diarize ? { speaker: w.speaker ?? 'A' } : {}),
      }),
    )
  }
  return out
}

function meanConfidence(words: readonly ListenWord[]): number {
  if (words.length === 0) return 0
  return round(words.reduce((sum, w) => sum + w.confidence, 0) / words.length, 4)
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x))
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
