// @ts-check
/**
 * The speaker model's front end: 80 Kaldi log-Mel filterbank energies per 10 ms frame, as
 * 3D-Speaker's CAM++ was trained on (Kaldi `compute-fbank-feats` options: 25 ms povey window,
 * pre-emphasis 0.97, DC removal, no dither, power spectrum, 80 bins from 20 Hz to 8 kHz,
 * snip edges), with each window's mean removed per bin. Samples are 16 kHz floats in [-1, 1).
 */

export const SAMPLE_RATE = 16_000
export const FRAME_SAMPLES = 400
export const HOP_SAMPLES = 160
export const MEL_BINS = 80
const FFT_SIZE = 512
const FLT_EPSILON = 1.1920929e-7

/** @param {number} hz */
const melScale = (hz) => 1127 * Math.log(1 + hz / 700)

/** @returns {Float64Array[]} */
function melBanks() {
  const bins = FFT_SIZE / 2 // the Nyquist bin is not used
  const low = melScale(20)
  const high = melScale(SAMPLE_RATE / 2)
  const delta = (high - low) / (MEL_BINS + 1)
  /** @type {Float64Array[]} */
  const banks = []
  for (let m = 0; m < MEL_BINS; m++) {
    const left = low + m * delta
    const center = left + delta
    const right = center + delta
    const w = new Float64Array(bins)
    for (let i = 0; i < bins; i++) {
      const mel = melScale((SAMPLE_RATE / FFT_SIZE) * i)
      if (mel > left && mel <= center) w[i] = (mel - left) / (center - left)
      else if (mel > center && mel < right) w[i] = (right - mel) / (right - center)
    }
    banks.push(w)
  }
  return banks
}

/** @type {{ window: Float64Array, banks: Float64Array[], cos: Float64Array, sin: Float64Array } | undefined} */
let tables

function getTables() {
  if (tables) return tables
  const window = new Float64Array(FRAME_SAMPLES)
  for (let i = 0; i < FRAME_SAMPLES; i++)
    window[i] = (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FRAME_SAMPLES - 1))) ** 0.85
  const cos = new Float64Array(FFT_SIZE / 2)
  const sin = new Float64Array(FFT_SIZE / 2)
  for (let i = 0; i < FFT_SIZE / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / FFT_SIZE)
    sin[i] = -Math.sin((2 * Math.PI * i) / FFT_SIZE)
  }
  tables = { window, banks: melBanks(), cos, sin }
  return tables
}

/**
 * In-place radix-2 FFT of length 512.
 * @param {Float64Array} re @param {Float64Array} im @param {Float64Array} cos @param {Float64Array} sin
 */
function fft(re, im, cos, sin) {
  const n = re.length
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      const r = re[i]
      re[i] = re[j]
      re[j] = r
      const m = im[i]
      im[i] = im[j]
      im[j] = m
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1
    const step = n / size
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step]
        const wi = sin[k * step]
        const a = start + k
        const b = a + half
        const tr = re[b] * wr - im[b] * wi
        const ti = re[b] * wi + im[b] * wr
        re[b] = re[a] - tr
        im[b] = im[a] - ti
        re[a] = re[a] + tr
        im[a] = im[a] + ti
      }
    }
  }
}

/** Number of frames for `samples` samples (a window shorter than one frame is padded to one). */
/** @param {number} samples @returns {number} */
export function frameCount(samples) {
  return 1 + Math.floor((Math.max(samples, FRAME_SAMPLES) - FRAME_SAMPLES) / HOP_SAMPLES)
}

/**
 * Features of one window: `frames × 80` values, row-major, mean-normalised per bin over the
 * window (pass `meanNorm: false` for the raw log energies).
 */
/**
 * @param {Float32Array} samples
 * @param {{ meanNorm?: boolean }} [options]
 * @returns {Float32Array}
 */
export function fbank(samples, options = {}) {
  const { window, banks, cos, sin } = getTables()
  const n = frameCount(samples.length)
  const out = new Float64Array(n * MEL_BINS)
  const re = new Float64Array(FFT_SIZE)
  const im = new Float64Array(FFT_SIZE)
  const power = new Float64Array(FFT_SIZE / 2)
  for (let f = 0; f < n; f++) {
    const start = f * HOP_SAMPLES
    let mean = 0
    for (let i = 0; i < FRAME_SAMPLES; i++) mean += samples[start + i] ?? 0
    mean /= FRAME_SAMPLES
    re.fill(0)
    im.fill(0)
    for (let i = 0; i < FRAME_SAMPLES; i++) re[i] = (samples[start + i] ?? 0) - mean
    for (let i = FRAME_SAMPLES - 1; i > 0; i--) re[i] = re[i] - 0.97 * re[i - 1]
    re[0] = re[0] * (1 - 0.97)
    for (let i = 0; i < FRAME_SAMPLES; i++) re[i] = re[i] * window[i]
    fft(re, im, cos, sin)
    for (let i = 0; i < FFT_SIZE / 2; i++) power[i] = re[i] ** 2 + im[i] ** 2
    for (let m = 0; m < MEL_BINS; m++) {
      const w = banks[m]
      let e = 0
      for (let i = 0; i < power.length; i++) e += w[i] * power[i]
      out[f * MEL_BINS + m] = Math.log(Math.max(e, FLT_EPSILON))
    }
  }
  if (options.meanNorm !== false) {
    for (let m = 0; m < MEL_BINS; m++) {
      let mean = 0
      for (let f = 0; f < n; f++) mean += out[f * MEL_BINS + m]
      mean /= n
      for (let f = 0; f < n; f++) out[f * MEL_BINS + m] = out[f * MEL_BINS + m] - mean
    }
  }
  return Float32Array.from(out)
}
