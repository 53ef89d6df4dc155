import { WsError } from '@ws/core'
import { symmetricEigen } from './eigen.js'

export interface ClusterOptions {
  /** The number of speakers, when known (otherwise found from the eigengap). */
  numSpeakers?: number
  /** Fewest speakers to find (default 1). */
  minSpeakers?: number
  /** Most speakers to find (default 8). */
  maxSpeakers?: number
  /** Share of each window's nearest neighbours joined to it in the affinity graph (default 0.3). */
  pruning?: number
  /**
   * Cluster each cluster again on its own and split it when its eigengap says so (default
   * true): a voice set far apart (another channel or language) otherwise hides two close ones.
   */
  refine?: boolean
  /**
   * Each embedding's window as a time range: windows that share audio are not counted as
   * each other's neighbours (they are similar because they overlap, not because one voice
   * speaks in both).
   */
  windows?: readonly { start: number; end: number }[]
  /** Clusters of fewer windows join their nearest cluster, when the count is found (default 3). */
  minClusterWindows?: number
}

/** Defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = {
  minSpeakers: 1,
  maxSpeakers: 8,
  pruning: 0.3,
  refine: true,
  minClusterWindows: 3,
} as const

export interface Clustering {
  /** A cluster per embedding, numbered 0, 1, … in order of first appearance. */
  labels: number[]
  count: number
}

/** Checks the speaker-count hints and the pruning share; throws `invalid_config`. */
export function validateSpeakerCounts(
  o: Pick<ClusterOptions, 'numSpeakers' | 'minSpeakers' | 'maxSpeakers' | 'pruning'>,
): void {
  for (const key of ['numSpeakers', 'minSpeakers', 'maxSpeakers'] as const) {
    const v = o[key]
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 32))
      throw new WsError('invalid_config', `${key} must be an integer from 1 to 32, got ${v}`)
  }
  if (o.pruning !== undefined && !(o.pruning > 0 && o.pruning <= 1))
    throw new WsError('invalid_config', `pruning is a share above 0, at most 1, got ${o.pruning}`)
  if ((o.minSpeakers ?? 1) > (o.maxSpeakers ?? CLUSTER_DEFAULTS.maxSpeakers))
    throw new WsError(
      'invalid_config',
      `minSpeakers (${o.minSpeakers}) is above maxSpeakers (${o.maxSpeakers})`,
    )
}

const unit = (v: Float32Array): Float64Array => {
  let n = 0
  for (const x of v) n += x * x
  n = Math.sqrt(n) || 1
  return Float64Array.from(v, (x) => x / n)
}
const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

/**
 * Spectral clustering of speaker embeddings: a graph joining each window to its most similar
 * windows (a share of them, `pruning`; windows sharing audio excluded), its Laplacian's
 * eigenvectors, the speaker count from the largest eigengap (within the hints), k-means on
 * the spectral embedding, then each cluster clustered again on its own (`refine`). No
 * distance threshold is involved.
 */
export function clusterEmbeddings(
  embeddings: readonly Float32Array[],
  options: ClusterOptions = {},
): Clustering {
  validateSpeakerCounts(options)
  const o = { ...CLUSTER_DEFAULTS, ...options }
  const n = embeddings.length
  if (n === 0) return { labels: [], count: 0 }
  const x = embeddings.map(unit)
  const fixed = options.numSpeakers
  if (n === 1 || fixed === 1) return { labels: new Array(n).fill(0), count: 1 }
  const maxK = Math.min(fixed ?? o.maxSpeakers, n - 1)
  const similarity = x.map((a) => Float64Array.from(x, (b) => dot(a, b)))
  // Each window's neighbours, most similar first.
  const w = options.windows
  const shares = (i: number, j: number) =>
    w !== undefined &&
    (w[i]?.start as number) < (w[j]?.end as number) &&
    (w[j]?.start as number) < (w[i]?.end as number)
  const ranked = similarity.map((row, i) =>
    [...row.keys()]
      .filter((j) => j !== i && !shares(i, j))
      .sort((p, q) => (row[q] as number) - (row[p] as number)),
  )
  // The graph joins each window to its `keep` most similar windows (binarised, symmetric).
  const spectrum = (keep: number) => {
    const L = Array.from({ length: n }, () => new Float64Array(n))
    for (let i = 0; i < n; i++) {
      for (const j of (ranked[i] as number[]).slice(0, keep)) {
        ;(L[i] as Float64Array)[j] = (((L[i] as Float64Array)[j] as number) || 0) - 0.5
        ;(L[j] as Float64Array)[i] = (((L[j] as Float64Array)[i] as number) || 0) - 0.5
      }
    }
    for (let i = 0; i < n; i++) {
      const row = L[i] as Float64Array
      let degree = 0
      for (let j = 0; j < n; j++) degree -= row[j] as number
      row[i] = degree
    }
    const eig = symmetricEigen(L)
    let k = 1
    let best = -1
    for (let i = Math.max(0, o.minSpeakers - 1); i < maxK; i++) {
      const gap = (eig.values[i + 1] as number) - (eig.values[i] as number)
      if (gap > best) {
        best = gap
        k = i + 1
      }
    }
    return { ...eig, k }
  }
  const chosen = spectrum(Math.min(n - 1, Math.max(Math.ceil(o.pruning * n), 2)))
  const { vectors } = chosen
  let k = fixed ?? chosen.k
  k = Math.min(k, n)
  if (k <= 1) return { labels: new Array(n).fill(0), count: 1 }
  const spectral = Array.from({ length: n }, (_, i) =>
    Float64Array.from({ length: k }, (_, j) => (vectors[j] as Float64Array)[i] as number),
  )
  let labels = kmeans(spectral, k)
  if (!fixed) labels = absorbSmall(x, labels, o.minClusterWindows, o.minSpeakers)
  if (!fixed && o.refine) {
    let next = labels.reduce((a, b) => Math.max(a, b), 0) + 1
    for (const c of [...new Set(labels)]) {
      // Never beyond maxSpeakers: a split may add at most what is left.
      const headroom = o.maxSpeakers - new Set(labels).size
      if (headroom <= 0) break
      const members = labels.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0)
      if (members.length < 4 * o.minClusterWindows) continue
      const sub = clusterEmbeddings(
        members.map((i) => embeddings[i] as Float32Array),
        {
          ...options,
          minSpeakers: 1,
          maxSpeakers: headroom + 1,
          refine: false,
          ...(w ? { windows: members.map((i) => w[i] as { start: number; end: number }) } : {}),
        },
      )
      if (sub.count < 2) continue
      members.forEach((i, m) => {
        if ((sub.labels[m] as number) > 0) labels[i] = next + (sub.labels[m] as number) - 1
      })
      next += sub.count - 1
    }
  }
  return renumber(labels)
}

/** k-means with k-means++ seeding from a fixed seed (the same input gives the same labels). */
export function kmeans(points: readonly Float64Array[], k: number, restarts = 8): number[] {
  let seed = 12345
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const dist = (a: Float64Array, b: Float64Array) => {
    let s = 0
    for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2
    return s
  }
  let best: { labels: number[]; cost: number } = { labels: [], cost: Number.POSITIVE_INFINITY }
  for (let r = 0; r < restarts; r++) {
    const centers = [Float64Array.from(points[Math.floor(random() * points.length)] as Float64Array)]
    while (centers.length < k) {
      const d = points.map((p) => Math.min(...centers.map((c) => dist(p, c))))
      let pick = random() * d.reduce((a, b) => a + b, 0)
      let i = 0
      while (i < d.length - 1 && pick > (d[i] as number)) pick -= d[i++] as number
      centers.push(Float64Array.from(points[i] as Float64Array))
    }
    let labels = new Array<number>(points.length).fill(0)
    for (let iter = 0; iter < 50; iter++) {
      const next = points.map((p) => {
        let bestC = 0
        for (let c = 1; c < k; c++)
          if (dist(p, centers[c] as Float64Array) < dist(p, centers[bestC] as Float64Array)) bestC = c
        return bestC
      })
      const moved = next.some((l, i) => l !== labels[i])
      labels = next
      for (let c = 0; c < k; c++) {
        const members = points.filter((_, i) => labels[i] === c)
        if (members.length === 0) continue
        const center = new Float64Array(points[0]?.length ?? 0)
        for (const m of members)
          for (let j = 0; j < center.length; j++)
            center[j] = (center[j] as number) + (m[j] as number) / members.length
        centers[c] = center
      }
      if (!moved && iter > 0) break
    }
    const cost = points.reduce((s, p, i) => s + dist(p, centers[labels[i] as number] as Float64Array), 0)
    if (cost < best.cost) best = { labels, cost }
  }
  return best.labels
}

/** Clusters with fewer than `min` members join the cluster whose centroid is nearest. */
function absorbSmall(
  x: readonly Float64Array[],
  labels: number[],
  min: number,
  minSpeakers: number,
): number[] {
  const out = [...labels]
  for (;;) {
    const sizes = new Map<number, number>()
    for (const l of out) sizes.set(l, (sizes.get(l) ?? 0) + 1)
    if (sizes.size <= Math.max(1, minSpeakers)) return out
    const [small] = [...sizes.entries()].filter(([, s]) => s < min).sort((a, b) => a[1] - b[1])
    if (!small) return out
    const centroid = (label: number) => {
      const c = new Float64Array(x[0]?.length ?? 0)
      x.forEach((v, i) => {
        if (out[i] === label) for (let j = 0; j < c.length; j++) c[j] = (c[j] as number) + (v[j] as number)
      })
      return c
    }
    const mine = centroid(small[0])
    let target = -1
    let bestSim = Number.NEGATIVE_INFINITY
    for (const label of sizes.keys()) {
      if (label === small[0]) continue
      const c = centroid(label)
      const sim = dot(mine, c) / (Math.sqrt(dot(c, c)) || 1)
      if (sim > bestSim) {
        bestSim = sim
        target = label
      }
    }
    for (let i = 0; i < out.length; i++) if (out[i] === small[0]) out[i] = target
  }
}

function renumber(labels: number[]): Clustering {
  const map = new Map<number, number>()
  const out = labels.map((l) => {
    if (!map.has(l)) map.set(l, map.size)
    return map.get(l) as number
  })
  return { labels: out, count: map.size }
}
