/**
 * The mel filterbank Whisper uses (its mel_filters.npz is librosa.filters.mel(sr=16000,
 * n_fft=400, n_mels) with Slaney's mel scale and area normalisation), computed in float64
 * and returned as float32, n_mels × (n_fft / 2 + 1).
 */
export function whisperMelFilters(nMels: number, sampleRate = 16_000, nFft = 400): Float32Array {
  const bins = Math.floor(nFft / 2) + 1
  const fMin = 0
  const fMax = sampleRate / 2
  // Slaney: linear below 1 kHz, logarithmic above.
  const fSp = 200 / 3
  const minLogHz = 1000
  const minLogMel = minLogHz / fSp
  const logStep = Math.log(6.4) / 27
  const hzToMel = (f: number) => (f < minLogHz ? f / fSp : minLogMel + Math.log(f / minLogHz) / logStep)
  const melToHz = (m: number) => (m < minLogMel ? fSp * m : minLogHz * Math.exp(logStep * (m - minLogMel)))
  const melMin = hzToMel(fMin)
  const melMax = hzToMel(fMax)
  const melF = Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1)),
  )
  const fftFreqs = Array.from({ length: bins }, (_, i) => (i * (sampleRate / 2)) / (bins - 1))
  const out = new Float32Array(nMels * bins)
  for (let m = 0; m < nMels; m++) {
    const lower = melF[m]!
    const center = melF[m + 1]!
    const upper = melF[m + 2]!
    const enorm = 2 / (upper - lower)
    for (let k = 0; k < bins; k++) {
      const f = fftFreqs[k]!
      const rising = (f - lower) / (center - lower)
      const falling = (upper - f) / (upper - center)
      out[m * bins + k] = Math.max(0, Math.min(rising, falling)) * enorm
    }
  }
  return out
}
