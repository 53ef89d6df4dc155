import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  concatFloat32,
  type ErrorCode,
  type InferenceScheduler,
  type Logger,
  type Segment,
  segmentTimes,
  speechRegions,
  splitAtPauses,
  type Task,
  type TranscriptResult,
  toWsError,
  WHISPER_SAMPLE_RATE,
  WsError,
  withoutWords,
} from '@ws/core'
import { decodeAudioStream } from '@ws/core/node'
import type { Engine } from './engine.js'
import type { ServerMetrics } from './metrics.js'
import type { RestJobs } from './rest-jobs.js'
import { type DiarizeRequest, MAX_DIARIZE_SECONDS } from './speakers.js'
import { transcribeInWindows } from './windows.js'

/** What every REST transcription endpoint needs from the server. */
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

/** The HTTP status of each error code a REST endpoint answers with (500 for the others). */
const STATUS: Partial<Record<ErrorCode, number>> = {
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

/** The HTTP status for `error` on a REST endpoint. */
export function httpStatus(error: WsError): number {
  return STATUS[error.code] ?? 500
}

/** Sends `error` in a protocol's own shape, with `status` over the code's own; returns the status sent. */
export type SendError = (
  res: ServerResponse,
  error: WsError,
  options?: { status?: number; headers?: Record<string, string> },
) => number

/** What a request asks for: an audio file and how to transcribe it. */
export interface AudioRequest {
  bytes: Uint8Array
  task?: Task
  /** ISO 639-1; undefined: the model detects it. */
  language?: string | undefined
  prompt?: string | undefined
  /** The answer's segments keep their words (word times are decoded either way: they time the segments). */
  wordTimestamps?: boolean
  /** Who spoke: segments and words get `speaker`. */
  diarize?: DiarizeRequest | undefined
}

/** A request read and checked: what to transcribe, and how to answer once it is. */
export interface RestCall {
  audio: AudioRequest
  /** Writes the 200 response. `duration` is the decoded audio's, in seconds. */
  answer(result: TranscriptResult, duration: number): void
}

/** How one protocol's endpoint reads its request and answers its errors. */
export interface RestProtocol {
  sendError: SendError
  /**
   * Checks the request and reads its body through `body()` (at most `maxUploadBytes`), or
   * throws a `WsError` that `sendError` answers.
   */
  read(body: () => Promise<Buffer>): Promise<RestCall>
}

/**
 * One REST transcription, whatever the protocol, bounded: at most `jobs.max` at once (429
 * with `Retry-After` past that; the body is discarded unread), a body of at most
 * `maxUploadBytes` (refused from `Content-Length` without reading it: the connection is
 * closed), audio of at most `maxFileSeconds`, decoded a piece at a time off the event loop's
 * critical path and transcribed in windows at pauses, each after the live sessions' finals.
 * The job stops when its client leaves, and gets a typed 503 when the server shuts down
 * under it.
 */
export async function runRestJob(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RestContext,
  protocol: RestProtocol,
): Promise<void> {
  const started = performance.now()
  let status = 200
  const job = ctx.jobs.start()
  if ('refusal' in job) {
    // The body is discarded as it comes (not kept): clients read the answer after uploading.
    req.resume()
    status = protocol.sendError(res, job.refusal, {
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
    const call = await protocol.read(() => readBody(req, ctx.maxUploadBytes, res))
    const { audio } = call
    const speakers = audio.diarize && (await ctx.engine.speakers.prepare(audio.diarize, signal))
    const decoding = {
      maxSeconds: speakers ? Math.min(ctx.maxFileSeconds, MAX_DIARIZE_SECONDS) : ctx.maxFileSeconds,
      signal,
      onDuration: (seconds: number) => {
        job.totalSeconds = seconds
      },
    }
    let decoded = 0
    // Diarization needs the whole recording (bounded by maxFileSeconds) after transcription.
    const kept: Float32Array[] = []
    const chunks = (async function* () {
      for await (const chunk of decodeAudioStream(audio.bytes, decoding)) {
        decoded += chunk.length
        if (audio.diarize) kept.push(chunk)
        yield chunk
      }
    })()
    // Word times are fitted to the speech the server's VAD hears in each window (DTW times put
    // a word after a pause partly in it); one VAD per job, run between the windows. A VAD that
    // fails leaves the words as the engine timed them: the fit is never worth a failed answer.
    const vad = await ctx.engine.createVad().catch((err: unknown) => {
      ctx.logger.warn({ err }, 'no VAD for this REST job: its words keep the times the engine gave')
      return undefined
    })
    const speech = async (window: Float32Array) =>
      vad
        ? speechRegions(window, vad).catch((err: unknown) => {
            ctx.logger.warn({ err }, 'the VAD failed on a window: its words keep the times the engine gave')
            return []
          })
        : []
    let result = await transcribeInWindows(chunks, {
      backend: ctx.engine.backend,
      gate: ctx.scheduler.gate({ bulk: true }),
      signal,
      language: audio.language,
      prompt: audio.prompt,
      ...(audio.task ? { task: audio.task } : {}),
      // Always: segment times come from the words (see segmentTimes), asked for or not.
      wordTimestamps: true,
      ...(vad?.sampleRate === WHISPER_SAMPLE_RATE ? { speech } : {}),
      onProgress: (seconds) => {
        job.doneSeconds = seconds
      },
    }).finally(() => vad?.close?.())
    const duration = decoded / WHISPER_SAMPLE_RATE
    if (duration === 0) throw new WsError('invalid_audio', 'The file holds no audio')
    if (speakers) {
      const whole = concatFloat32(kept.splice(0))
      const segments = await ctx.engine.speakers.label(whole, result.segments, speakers, signal)
      result = { ...result, segments }
    }
    result = { ...result, segments: answerSegments(result.segments, audio.wordTimestamps ?? false) }
    ctx.metrics.transcriptionSeconds.observe({ kind: 'rest' }, (performance.now() - started) / 1000)
    call.answer(result, duration)
  } catch (err) {
    const reason: unknown = job.signal.reason
    // Shut down under it: the server's own typed error, not "aborted".
    const error = job.signal.aborted && reason instanceof WsError ? reason : toWsError(err)
    if (error.code === 'internal_error') ctx.logger.error({ err }, 'REST transcription failed')
    if (left.signal.aborted) ctx.logger.info('REST client left; its transcription stopped')
    status = left.signal.aborted
      ? 499
      : protocol.sendError(res, error, error.code === 'audio_too_large' ? { headers: closeAfter } : {})
  } finally {
    res.off('close', onClose)
    job.done()
    ctx.metrics.restRequests.inc({ status: String(status) })
  }
}

/**
 * The segments a REST answer gives: cut where their words pause a second or more
 * ({@link splitAtPauses}), timed by their words ({@link segmentTimes}: in order, no overlap,
 * none of zero length), the words kept only when the request asked for them.
 */
export function answerSegments(segments: readonly Segment[], words: boolean): Segment[] {
  return withoutWords(segmentTimes(splitAtPauses(segments)), words)
}

/** An upload refused before it was read whole: the connection closes instead of reading the rest. */
const closeAfter = { connection: 'close' }

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
