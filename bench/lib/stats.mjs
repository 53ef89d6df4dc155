// Statistics of the benchmark's samples: quantiles, a seeded bootstrap, rounding for the report.

/** The q-quantile of xs (the sample at floor(q × n) of the sorted samples); null when empty. */
export const quantile = (xs, q) => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
export const median = (xs) => quantile(xs, 0.5)

let seed = 12345
/** A seeded linear congruential generator in [0, 1): the same draws on every run. */
export const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

/** Ratio of medians B/A with a 95 % bootstrap interval. */
export function bootstrapRatio(a, b, rounds = 2000) {
  const ratio = median(b) / median(a)
  const draws = []
  const pick = (xs) => Array.from(xs, () => xs[Math.floor(random() * xs.length)])
  for (let i = 0; i < rounds; i++) draws.push(median(pick(b)) / median(pick(a)))
  return { ratio, low: quantile(draws, 0.025), high: quantile(draws, 0.975) }
}

/** x to d decimals; null for null, undefined and NaN. */
export const round = (x, d = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(d))
/** Seconds to whole milliseconds; null stays null. */
export const ms = (s) => (s === null ? null : round(s * 1000))
