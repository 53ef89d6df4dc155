/**
 * The sample index in [from, to] at the middle of the quietest window of `windowSamples`
 * (by mean square), preferring the latest on ties: where to cut audio that must be split.
 */
export function quietestPoint(audio: Float32Array, from: number, to: number, windowSamples = 320): number {
  const lo = Math.max(0, Math.floor(from))
  const hi = Math.min(audio.length, Math.floor(to))
  if (hi - lo < windowSamples) return hi
  const hop = Math.max(1, windowSamples >> 1)
  let best = hi
  let bestEnergy = Number.POSITIVE_INFINITY
  for (let s = lo; s + windowSamples <= hi; s += hop) {
    let e = 0
    for (let i = s; i < s + windowSamples; i++) e += audio[i]! * audio[i]!
    if (e <= bestEnergy) {
      bestEnergy = e
      best = s + (windowSamples >> 1)
    }
  }
  return best
}

/** Root mean square of samples. */
export function rms(audio: Float32Array): number {
  if (audio.length === 0) return 0
  let sum = 0
  for (let i = 0; i < audio.length; i++) sum += audio[i]! * audio[i]!
  return Math.sqrt(sum / audio.length)
}
