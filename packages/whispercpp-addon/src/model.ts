import { availableParallelism } from 'node:os'
import { type BinaryInfo, type LoadAddonOptions, loadAddon } from './binary.js'
import { definedOnly } from './defined.js'
import { WhisperAddonError } from './errors.js'
import type { NativeContext, NativeModelInfo, NativeResult } from './native.js'
import { ThreadGovernor } from './threads.js'

/** whisper.cpp's alignment-head presets for DTW word times, by model. */
export const ALIGNMENT_HEADS = [
  'tiny.en',
  'tiny',
  'base.en',
  'base',
  'small.en',
  'small',
  'medium.en',
  'medium',
  'large-v1',
  'large-v2',
  'large-v3',
  'large-v3-turbo',
] as const
export type AlignmentHeads = (typeof ALIGNMENT_HEADS)[number]

export interface ModelOptions extends LoadAddonOptions {
  /**
   * DTW token times from the cross-attention of these alignment heads: a model's preset, or
   * `{ topLayers: n }` for every head of the top n text layers (any model). Off by default.
   * Unlike whisper.cpp's timestamp-token heuristic, DTW times hold at a reduced `audioCtx`.
   */
  alignmentHeads?: AlignmentHeads | { topLayers: number }
  /** Use a GPU backend if one was built and found (default false). */
  gpu?: boolean
  /**
   * When a call's threads were starved of CPU (another process took cores), give the next
   * calls one thread fewer, and try more again later (default true; see {@link ThreadGovernor}).
   * Only calls that run alone on the model are judged.
   */
  adaptiveThreads?: boolean
}

export interface TranscribeParams {
  /** CPU threads for this call (default: the cores available). */
  threads?: number
  /** Beam size, 1–8; 1 (default) decodes greedily. */
  beamSize?: number
  /** Candidates sampled at temperatures above 0 in greedy mode, 1–8 (default 1). */
  bestOf?: number
  /** Encoder positions (50 per second of audio); 0 (default) is Whisper's full 30 s window. */
  audioCtx?: number
  /** Language code, or `auto` to detect it (default `en`). */
  language?: string
  /** Translate to English (multilingual models). */
  translate?: boolean
  /** Text the decoder is primed with. */
  initialPrompt?: string
  /** First decoding temperature (default 0). */
  temperature?: number
  /** Temperature step for the fallback when a result fails the thresholds; 0 disables it (default 0.2). */
  temperatureInc?: number
  entropyThreshold?: number
  logprobThreshold?: number
  noSpeechThreshold?: number
  /** whisper.cpp's timestamp-token times per token (with `tokens`). */
  tokenTimestamps?: boolean
  /** Per-token text, probability and times in each segment (default false). */
  tokens?: boolean
  singleSegment?: boolean
  noTimestamps?: boolean
  suppressBlank?: boolean
  suppressNonSpeech?: boolean
  /** At most this many tokens per segment (0, default: no limit). */
  maxTokens?: number
  /** Stops the call within one graph step; the promise rejects with code `aborted`. */
  signal?: AbortSignal
}

export const DEFAULT_TRANSCRIBE_PARAMS = {
  beamSize: 1,
  bestOf: 1,
  audioCtx: 0,
  language: 'en',
  temperature: 0,
  temperatureInc: 0.2,
  tokens: false,
} as const

export interface Token {
  id: number
  text: string
  /** Probability, and its log. */
  p: number
  logp: number
  startMs: number
  endMs: number
  /** DTW time of the token in ms, when the model was loaded with `alignmentHeads`; else -1. */
  dtwMs: number
}

export interface Segment {
  startMs: number
  endMs: number
  text: string
  /** whisper.cpp's probability that the segment's window holds no speech. */
  noSpeechProb: number
  /** Mean log-probability of the segment's text tokens (timestamps left out; 0 with none). */
  avgLogprob: number
  tokens?: Token[]
}

export interface TranscribeResult {
  language: string
  segments: Segment[]
}

/** whisper.cpp's `WHISPER_MAX_DECODERS`: the candidates one call decodes at most. */
const WHISPER_MAX_DECODERS = 8

function validateParams(p: TranscribeParams): void {
  const bad = (message: string): never => {
    throw new WhisperAddonError('invalid_argument', message)
  }
  const int = (name: keyof TranscribeParams, min: number, max: number) => {
    const v = p[name]
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max))
      bad(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`)
  }
  int('threads', 1, 512)
  // whisper.cpp decodes at most WHISPER_MAX_DECODERS (8) candidates, max(beamSize, bestOf), and
  // fails a call asking for more.
  int('beamSize', 1, WHISPER_MAX_DECODERS)
  int('bestOf', 1, WHISPER_MAX_DECODERS)
  int('audioCtx', 0, 1500)
  int('maxTokens', 0, 448)
  for (const k of ['temperature', 'temperatureInc'] as const) {
    const v = p[k]
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) bad(`${k} must be 0 to 1, got ${v}`)
  }
  if (p.language !== undefined && !/^(auto|[a-z]{2,3}(-[a-z]+)?)$/i.test(p.language))
    bad(`language must be a code such as "en" or "auto", got ${JSON.stringify(p.language)}`)
}

const cs = (t: number) => (t < 0 ? -1 : t * 10)

function convert(r: NativeResult): TranscribeResult {
  return {
    language: r.language,
    segments: r.segments.map((s) => ({
      startMs: cs(s.t0),
      endMs: cs(s.t1),
      text: s.text,
      noSpeechProb: s.noSpeechProb,
      avgLogprob: s.avgLogprob,
      ...(s.tokens && {
        tokens: s.tokens.map((t) => ({
          id: t.id,
          text: t.text,
          p: t.p,
          logp: t.logp,
          startMs: cs(t.t0),
          endMs: cs(t.t1),
          dtwMs: cs(t.tDtw),
        })),
      }),
    })),
  }
}

/**
 * A whisper.cpp model in memory. `transcribe()` runs on libuv's worker threads, never the
 * event loop; concurrent calls each get a decoding state of their own (pooled), sharing the
 * weights. `free()` waits for running calls, then releases the memory; it is idempotent.
 */
export class WhisperModel {
  readonly file: string
  readonly binary: BinaryInfo
  #ctx: NativeContext | undefined
  #freeing: Promise<void> | undefined
  readonly #governor: ThreadGovernor | undefined
  #running = 0
  #started = 0

  private constructor(file: string, ctx: NativeContext, binary: BinaryInfo, adaptive: boolean) {
    this.file = file
    this.#ctx = ctx
    this.binary = binary
    this.#governor = adaptive ? new ThreadGovernor() : undefined
  }

  static async load(file: string, options: ModelOptions = {}): Promise<WhisperModel> {
    const heads = options.alignmentHeads
    if (typeof heads === 'string' && !ALIGNMENT_HEADS.includes(heads))
      throw new WhisperAddonError('invalid_argument', `Unknown alignment-heads preset ${heads}`)
    if (typeof heads === 'object' && !(Number.isInteger(heads.topLayers) && heads.topLayers > 0))
      throw new WhisperAddonError('invalid_argument', 'alignmentHeads.topLayers must be a positive integer')
    const { addon, info } = await loadAddon(options)
    let ctx: NativeContext
    try {
      ctx = await addon.WhisperContext.load(file, {
        gpu: options.gpu ?? false,
        ...(typeof heads === 'string' && { dtw: heads }),
        ...(typeof heads === 'object' && { dtw: 'top', dtwTopLayers: heads.topLayers }),
      })
    } catch (err) {
      throw new WhisperAddonError('load_failed', (err as Error).message, { cause: err })
    }
    return new WhisperModel(file, ctx, info, options.adaptiveThreads ?? true)
  }

  /** The model's shape; undefined once freed. */
  get info(): NativeModelInfo | undefined {
    return this.#ctx?.info() ?? undefined
  }

  async transcribe(audio: Float32Array, params: TranscribeParams = {}): Promise<TranscribeResult> {
    const ctx = this.#ctx
    if (!ctx) throw new WhisperAddonError('freed', 'The model was freed')
    if (!(audio instanceof Float32Array))
      throw new WhisperAddonError('invalid_argument', 'audio must be a Float32Array')
    validateParams(params)
    const { signal, ...rest } = params
    if (signal?.aborted) throw new WhisperAddonError('aborted', 'The transcription was aborted')
    const flag = new Int32Array(1)
    const onAbort = () => {
      flag[0] = 1
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const requested = rest.threads ?? availableParallelism()
    const threads = this.#governor?.threads(requested) ?? requested
    const call = ++this.#started
    const alone = this.#running++ === 0
    const wall = performance.now()
    const cpu = process.cpuUsage()
    try {
      const native = await ctx.transcribe(
        audio,
        { ...DEFAULT_TRANSCRIBE_PARAMS, ...definedOnly(rest), threads },
        flag,
      )
      // Judged only if no other call overlapped it: process CPU time is then this call's.
      if (alone && this.#started === call && this.#running === 1) {
        const used = process.cpuUsage(cpu)
        this.#governor?.record(threads, performance.now() - wall, (used.user + used.system) / 1000)
      }
      return convert(native)
    } catch (err) {
      const code = (err as { code?: string }).code === 'ABORTED' ? 'aborted' : 'failed'
      throw new WhisperAddonError(code, (err as Error).message, { cause: err })
    } finally {
      this.#running--
      signal?.removeEventListener('abort', onAbort)
    }
  }

  free(): Promise<void> {
    const ctx = this.#ctx
    this.#ctx = undefined
    this.#freeing ??= ctx ? ctx.free() : Promise.resolve()
    return this.#freeing
  }
}
