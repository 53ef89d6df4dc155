import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  abortError,
  BackendBase,
  Limiter,
  type Logger,
  MAX_BEAM_SIZE,
  optionChecker,
  type Segment,
  type TranscribeOptions,
  type TranscriptResult,
  WHISPER_SAMPLE_RATE,
  WsError,
  withDefaults,
  writeWav,
} from '@ws/core'
import { type GgmlFileInfo, type ModelSourceOptions, modelSource, resolveGgmlModel } from '@ws/models'
import { whisperToolPath } from '@ws/whispercpp-addon'
import { execa } from 'execa'
import { alignmentHeads, paddedToMinimum, wordsFromTokens } from './results.js'

/** Also `modelsDir`, `offline`, `onProgress` (model download or conversion) and `env`. */
export interface WhisperCliOptions extends ModelSourceOptions {
  /**
   * The `whisper-cli` executable: a path, or a name looked up on `PATH` (default: the one
   * `npx ws-whispercpp tools` built, else `whisper-cli` on `PATH`).
   */
  binary?: string
  /** Threads of each process (default: the cores available). */
  threads?: number
  /** Processes at once; more calls wait in order (default 1: each already uses every core). */
  concurrency?: number
  /** Beam size (default 5; 1 is greedy). */
  beamSize?: number
  /** One process's time limit; past it the process is killed and the call fails (default 120 000). */
  timeoutMs?: number
  logger?: Logger
}

export const DEFAULT_WHISPER_CLI_OPTIONS = {
  concurrency: 1,
  beamSize: 5,
  timeoutMs: 120_000,
} as const

function validate(options: WhisperCliOptions) {
  const o = withDefaults(
    {
      ...DEFAULT_WHISPER_CLI_OPTIONS,
      threads: availableParallelism(),
      binary: whisperToolPath('whisper-cli') ?? 'whisper-cli',
    },
    options,
  )
  const check = optionChecker('WhisperCliBackend')
  check.integer('threads', o.threads, 1, 256)
  check.integer('concurrency', o.concurrency, 1, 256)
  check.integer('beamSize', o.beamSize, 1, MAX_BEAM_SIZE)
  check.that(o.timeoutMs > 0, 'timeoutMs must be positive')
  check.that(typeof o.binary === 'string' && o.binary.length > 0, 'binary must be a path or a name')
  return o
}

/** What `whisper-cli --output-json-full` writes. */
interface CliJson {
  result?: { language?: string }
  transcription?: {
    offsets: { from: number; to: number }
    text: string
    tokens?: { text: string; p: number; t_dtw: number; offsets: { from: number; to: number } }[]
  }[]
}

/**
 * Whisper through whisper.cpp's `whisper-cli`, one process per call: each call writes a WAV
 * and reads the tool's JSON. It loads the model on every call (tens of milliseconds for
 * tiny.en, seconds for large models), so it suits batch jobs, an existing whisper.cpp
 * install, or isolation from a crashing build; live streaming wants `WhisperCppBackend`.
 * An abort or the time limit kills the process.
 */
export class WhisperCliBackend extends BackendBase<ReturnType<typeof validate>> {
  /** An abort kills the running process at once. */
  readonly stopsRunningCalls = true
  readonly #limiter: Limiter
  #file: string | undefined
  #info: GgmlFileInfo | undefined

  constructor(options: WhisperCliOptions = {}) {
    const o = validate(options)
    super('whisper-cli', o, options.logger)
    this.#limiter = new Limiter(o.concurrency)
  }

  /** The ggml file in use, once loaded. */
  get modelFile(): string | undefined {
    return this.#file
  }

  get multilingual(): boolean | undefined {
    return this.#info ? this.#info.hparams.nVocab >= 51865 : undefined
  }

  protected get modelLoaded(): boolean {
    return this.#file !== undefined
  }

  /** Resolves the ggml file (download or conversion as for the in-process backend) and checks the tool runs. */
  protected async loadModelImpl(model: string): Promise<void> {
    const resolved = await resolveGgmlModel(model, modelSource(this.options))
    const probe = await execa(this.options.binary, ['--help'], { reject: false, timeout: 30_000 })
    if (probe.failed && probe.exitCode === undefined) {
      throw new WsError(
        'model_load_failed',
        `whisper-cli did not run (${this.options.binary}: ${probe.code ?? probe.shortMessage}); install whisper.cpp or run \`npx ws-whispercpp tools\`, or pass binary`,
        { cause: probe },
      )
    }
    this.#file = resolved.file
    this.#info = resolved.info
    this.log.info({ file: resolved.file, binary: this.options.binary }, 'whisper-cli ready')
  }

  protected transcribeImpl(audio: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    return this.#limiter.run(() => this.#run(audio, options), options.signal)
  }

  protected async closeImpl(): Promise<void> {
    this.#file = undefined
  }

  async #run(audio: Float32Array, options: TranscribeOptions): Promise<TranscriptResult> {
    const o = this.options
    const duration = audio.length / WHISPER_SAMPLE_RATE
    const words = options.wordTimestamps ?? false
    const dir = await mkdtemp(join(tmpdir(), 'ws-whisper-cli-'))
    const started = performance.now()
    try {
      await writeFile(join(dir, 'in.wav'), writeWav(paddedToMinimum(audio), WHISPER_SAMPLE_RATE))
      const args = ['-m', this.#file!, '-f', join(dir, 'in.wav'), '-of', join(dir, 'out'), '-ojf', '-np']
      const beam = options.beamSize ?? o.beamSize
      args.push('-t', String(o.threads), '-bs', String(beam), '-bo', String(beam))
      args.push('-l', options.language ?? (this.multilingual ? 'auto' : 'en'))
      if (options.task === 'translate') args.push('-tr')
      if (options.initialPrompt) args.push('--prompt', options.initialPrompt)
      const heads = this.#info ? alignmentHeads(this.#info.hparams) : undefined
      if (words && typeof heads === 'string') args.push('-dtw', heads)
      const run = await execa(o.binary, args, {
        reject: false,
        cancelSignal: options.signal,
        timeout: o.timeoutMs,
        killSignal: 'SIGKILL',
        stdin: 'ignore',
      })
      if (options.signal?.aborted) throw abortError(options.signal, 'transcription')
      if (run.timedOut)
        throw new WsError('backend_failed', `whisper-cli gave no result in ${o.timeoutMs} ms (killed)`, {
          retryable: true,
        })
      if (run.failed) {
        const why =
          String(run.stderr ?? '')
            .trim()
            .split('\n')
            .slice(-3)
            .join(' ') || run.shortMessage
        throw new WsError('backend_failed', `whisper-cli failed (exit ${run.exitCode ?? run.signal}): ${why}`)
      }
      let json: CliJson
      try {
        json = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as CliJson
      } catch (err) {
        throw new WsError('backend_failed', 'whisper-cli wrote no readable JSON', { cause: err })
      }
      return {
        ...toResult(json, duration, words),
        language: options.language ?? json.result?.language ?? (this.multilingual ? 'und' : 'en'),
        processingTimeMs: Math.round(performance.now() - started),
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Segments (and words, when asked) of whisper-cli's JSON, clamped to the audio. */
export function toResult(
  json: CliJson,
  duration: number,
  words: boolean,
): { text: string; segments: Segment[] } {
  const clampMs = (ms: number) => Math.max(0, Math.min(duration, ms / 1000))
  const segments: Segment[] = []
  for (const s of json.transcription ?? []) {
    const text = s.text.trim()
    if (!text) continue
    const segment: Segment = { start: clampMs(s.offsets.from), end: clampMs(s.offsets.to), text }
    if (words) {
      const tokens = (s.tokens ?? []).map((t) => ({
        text: t.text,
        p: t.p,
        // t_dtw is in centiseconds (-1 without DTW).
        dtwMs: t.t_dtw >= 0 ? t.t_dtw * 10 : -1,
        startMs: t.offsets.from,
      }))
      segment.words = wordsFromTokens(tokens, clampMs, segment)
    }
    segments.push(segment)
  }
  return { text: segments.map((s) => s.text).join(' '), segments }
}
