import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { SampleBuffer } from './sample-buffer.js'

/**
 * Band-limited resampling by windowed-sinc interpolation (Kaiser window), for any pair of
 * rates, streaming: push chunks of any size, get the output that is ready, `flush()` at the
 * end. Output sample k is the input signal at time k / toRate exactly (the filter is
 * centred, so there is no delay to correct), and n input samples give ceil(n·to/from) output
 * samples in total.
 *
 * Linear interpolation would fold everything above the new Nyquist frequency back into the
 * band (a 10 kHz tone at 48 kHz comes out of a 16 kHz linear resampler as a 6 kHz tone);
 * this filter attenuates it by more than 70 dB, passes 0–6.5 kHz flat when going to 16 kHz,
 * and costs about 200 multiply-adds per output sample.
 */

export interface ResamplerOptions {
  fromRate: number
  /** Default: 16 000 Hz, what Whisper takes. */
  toRate?: number
  /** Zero crossings of the sinc on each side: the filter's length and sharpness (default 32). */
  zeroCrossings?: number
  /** Cutoff as a fraction of the lower Nyquist frequency (default 0.9). */
  rolloff?: number
  /** Kaiser window β (default 8.6, about 86 dB of stopband). */
  kaiserBeta?: number
}

export const DEFAULT_RESAMPLER_OPTIONS = {
  toRate: WHISPER_SAMPLE_RATE,
  zeroCrossings: 32,
  rolloff: 0.9,
  kaiserBeta: 8.6,
} as const

const TABLE_RESOLUTION = 512 // kernel samples per zero crossing
const MAX_RATE = 768_000

function besselI0(x: number): number {
  let sum = 1
  let term = 1
  const q = (x * x) / 4
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k)
    sum += term
    if (term < sum * 1e-12) break
  }
  return sum
}

const kernelCache = new Map<string, Float32Array>()

function kernelTable(zeroCrossings: number, beta: number): Float32Array {
  const key = `${zeroCrossings}:${beta}`
  const cached = kernelCache.get(key)
  if (cached) return cached
  const size = zeroCrossings * TABLE_RESOLUTION + 2
  const table = new Float32Array(size)
  const i0beta = besselI0(beta)
  for (let i = 0; i < size; i++) {
    const u = i / TABLE_RESOLUTION
    if (u >= zeroCrossings) continue
    const x = u / zeroCrossings
    const window = besselI0(beta * Math.sqrt(1 - x * x)) / i0beta
    const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u)
    table[i] = sinc * window
  }
  kernelCache.set(key, table)
  return table
}

function validateRate(name: string, rate: unknown): number {
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1000 || rate > MAX_RATE) {
    throw new WsError(
      'unsupported_sample_rate',
      `${name} must be an integer from 1000 to ${MAX_RATE} Hz, got ${rate}`,
    )
  }
  return rate
}

export class Resampler {
  readonly fromRate: number
  readonly toRate: number
  readonly #passthrough: boolean
  readonly #table: Float32Array
  readonly #cutoff: number // c: cutoff relative to the input Nyquist frequency
  readonly #halfWidth: number // in input samples
  readonly #step: number // input samples per output sample
  readonly #input = new SampleBuffer(4096)
  #inputStart = 0 // absolute index of the buffer's first sample
  #received = 0 // input samples received in total
  #nextOut = 0 // absolute index of the next output sample

  constructor(options: ResamplerOptions) {
    const opts = withDefaults(DEFAULT_RESAMPLER_OPTIONS, options)
    this.fromRate = validateRate('fromRate', opts.fromRate)
    this.toRate = validateRate('toRate', opts.toRate)
    if (!Number.isInteger(opts.zeroCrossings) || opts.zeroCrossings < 2 || opts.zeroCrossings > 256) {
      throw new WsError(
        'invalid_config',
        `zeroCrossings must be an integer from 2 to 256, got ${opts.zeroCrossings}`,
      )
    }
    if (!(opts.rolloff > 0 && opts.rolloff <= 1)) {
      throw new WsError('invalid_config', `rolloff must be in (0, 1], got ${opts.rolloff}`)
    }
    if (!(opts.kaiserBeta >= 0 && opts.kaiserBeta <= 40)) {
      throw new WsError('invalid_config', `kaiserBeta must be in [0, 40], got ${opts.kaiserBeta}`)
    }
    this.#passthrough = this.fromRate === this.toRate
    this.#cutoff = Math.min(1, this.toRate / this.fromRate) * opts.rolloff
    this.#halfWidth = opts.zeroCrossings / this.#cutoff
    this.#step = this.fromRate / this.toRate
    this.#table = kernelTable(opts.zeroCrossings, opts.kaiserBeta)
  }

  /** Output samples not yet emitted for the input received so far (they wait for lookahead). */
  get pendingOutput(): number {
    return this.#totalOutput() - this.#nextOut
  }

  /** Takes a chunk of input and returns the output samples that are now complete. */
  process(input: Float32Array): Float32Array {
    if (this.#passthrough) {
      this.#received += input.length
      this.#nextOut += input.length
      return input.slice()
    }
    this.#input.append(input)
    this.#received += input.length
    // Output k needs input up to floor(k·step + halfWidth).
    const ready = Math.max(0, Math.floor((this.#received - 1 - this.#halfWidth) / this.#step) + 1)
    return this.#emit(Math.min(ready, this.#totalOutput()))
  }

  /** Emits the rest of the output, treating the input after the end as silence. */
  flush(): Float32Array {
    if (this.#passthrough) return new Float32Array(0)
    return this.#emit(this.#totalOutput())
  }

  /** Forgets all input, as if new. */
  reset(): void {
    this.#input.clear()
    this.#inputStart = 0
    this.#received = 0
    this.#nextOut = 0
  }

  #totalOutput(): number {
    return Math.ceil((this.#received * this.toRate) / this.fromRate - 1e-9)
  }

  #emit(until: number): Float32Array {
    const count = Math.max(0, until - this.#nextOut)
    const out = new Float32Array(count)
    const table = this.#table
    const c = this.#cutoff
    const scale = c * TABLE_RESOLUTION
    const half = this.#halfWidth
    const buf = this.#input.view()
    const start = this.#inputStart
    const end = start + buf.length
    for (let n = 0; n < count; n++) {
      const k = this.#nextOut + n
      const t = (k * this.fromRate) / this.toRate
      const lo = Math.max(Math.ceil(t - half), start)
      const hi = Math.min(Math.floor(t + half), end - 1)
      let sum = 0
      for (let j = lo; j <= hi; j++) {
        const pos = Math.abs(t - j) * scale
        const i = pos | 0
        const frac = pos - i
        const a = table[i]!
        sum += buf[j - start]! * (a + frac * (table[i + 1]! - a))
      }
      out[n] = sum * c
    }
    this.#nextOut += count
    // Drop input no future output needs.
    const keepFrom = Math.ceil((this.#nextOut * this.fromRate) / this.toRate - half) - 1
    const drop = Math.min(Math.max(0, keepFrom - start), buf.length)
    if (drop > 0) {
      this.#input.dropFront(drop)
      this.#inputStart += drop
    }
    return out
  }
}

/** Resamples a whole signal (by default to 16 kHz). */
export function resample(
  input: Float32Array,
  fromRate: number,
  toRate: number = WHISPER_SAMPLE_RATE,
): Float32Array {
  const r = new Resampler({ fromRate, toRate })
  const head = r.process(input)
  const tail = r.flush()
  if (tail.length === 0) return head
  const out = new Float32Array(head.length + tail.length)
  out.set(head)
  out.set(tail, head.length)
  return out
}
