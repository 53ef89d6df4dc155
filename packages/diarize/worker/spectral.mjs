// @ts-check
// Spectral clustering of speaker embeddings, plain ESM so that the same file runs on the
// calling thread (`clusterEmbeddings` in src/cluster.ts) and in the clustering worker
// (cluster-worker.mjs, what `diarize()` uses: the eigendecomposition is O(windows³)).
// Options arrive validated and with their defaults (src/cluster.ts); types in spectral.d.mts.

/** @param {ArrayLike<number>} v */
const unit = (v) => {
  let n = 0
  for (let i = 0; i < v.length; i++) n += /** @type {number} */ (v[i]) ** 2
  n = Math.sqrt(n) || 1
  return Float64Array.from(v, (x) => x / n)
}
/** @param {Float64Array} a @param {Float64Array} b */
const dot = (a, b) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += /** @type {number} */ (a[i]) * /** @type {number} */ (b[i])
  return s
}

/**
 * Clusters of L2-normalised embeddings: a binarised k-nearest-neighbour affinity graph
 * (windows that share audio are not each other's neighbours), its Laplacian's eigengap for the
 * count (or `numSpeakers`), k-means on the spectral embedding, small clusters absorbed, and
 * each cluster split again when its own eigengap says so (`refine`).
 * @param {readonly ArrayLike<number>[]} embeddings
 * @param {import('./spectral.d.mts').SpectralOptions} o
 * @returns {{ labels: number[], count: number }}
 */
export function spectralClusters(embeddings, o) {
  const n = embeddings.length
  if (n === 0) return { labels: [], count: 0 }
  const x = embeddings.map(unit)
  const fixed = o.numSpeakers
  if (n === 1 || fixed === 1) return { labels: new Array(n).fill(0), count: 1 }
  const maxK = Math.min(fixed ?? o.maxSpeakers, n - 1)
  const similarity = x.map((a) => Float64Array.from(x, (b) => dot(a, b)))
  const w = o.windows
  /** @param {number} i @param {number} j */
  const shares = (i, j) => {
    if (w === undefined) return false
    const [a, b] = [
      /** @type {{ start: number, end: number }} */ (w[i]),
      /** @type {{ start: number, end: number }} */ (w[j]),
    ]
    return a.start < b.end && b.start < a.end
  }
  // Each window's neighbours, most similar first.
  const ranked = similarity.map((row, i) =>
    [...row.keys()]
      .filter((j) => j !== i && !shares(i, j))
      .sort((p, q) => /** @type {number} */ (row[q]) - /** @type {number} */ (row[p])),
  )
  // The graph joins each window to its `keep` most similar windows (binarised, symmetric).
  /** @param {number} keep */
  const spectrum = (keep) => {
    const L = Array.from({ length: n }, () => new Float64Array(n))
    for (let i = 0; i < n; i++) {
      for (const j of /** @type {number[]} */ (ranked[i]).slice(0, keep)) {
        const [li, lj] = [/** @type {Float64Array} */ (L[i]), /** @type {Float64Array} */ (L[j])]
        li[j] = (li[j] || 0) - 0.5
        lj[i] = (lj[i] || 0) - 0.5
      }
    }
    for (let i = 0; i < n; i++) {
      const row = /** @type {Float64Array} */ (L[i])
      let degree = 0
      for (let j = 0; j < n; j++) degree -= /** @type {number} */ (row[j])
      row[i] = degree
    }
    const eig = symmetricEigen(L)
    let k = 1
    let best = -1
    for (let i = Math.max(0, o.minSpeakers - 1); i < maxK; i++) {
      const gap = /** @type {number} */ (eig.values[i + 1]) - /** @type {number} */ (eig.values[i])
      if (gap > best) {
        best = gap
        k = i + 1
      }
    }
    return { ...eig, k }
  }
  // At least 3 neighbours: over a few windows (a clip of a few seconds) 2 split one voice.
  const chosen = spectrum(Math.min(n - 1, Math.max(Math.ceil(o.pruning * n), 3)))
  const { vectors } = chosen
  const k = Math.min(fixed ?? chosen.k, n)
  if (k <= 1) return { labels: new Array(n).fill(0), count: 1 }
  const spectral = Array.from({ length: n }, (_, i) =>
    Float64Array.from(
      { length: k },
      (_, j) => /** @type {number} */ (/** @type {Float64Array} */ (vectors[j])[i]),
    ),
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
      const sub = spectralClusters(
        members.map((i) => /** @type {ArrayLike<number>} */ (embeddings[i])),
        {
          ...o,
          minSpeakers: 1,
          maxSpeakers: headroom + 1,
          refine: false,
          windows: w ? members.map((i) => /** @type {{ start: number, end: number }} */ (w[i])) : undefined,
        },
      )
      if (sub.count < 2) continue
      members.forEach((i, m) => {
        const s = /** @type {number} */ (sub.labels[m])
        if (s > 0) labels[i] = next + s - 1
      })
      next += sub.count - 1
    }
  }
  return renumber(labels)
}

/**
 * k-means with k-means++ seeding from a fixed seed (the same input gives the same labels).
 * @param {readonly Float64Array[]} points
 * @param {number} k
 * @returns {number[]}
 */
export function kmeans(points, k, restarts = 8) {
  let seed = 12345
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  /** @param {Float64Array} a @param {Float64Array} b */
  const dist = (a, b) => {
    let s = 0
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2
    return s
  }
  /** @type {{ labels: number[], cost: number }} */
  let best = { labels: [], cost: Number.POSITIVE_INFINITY }
  for (let r = 0; r < restarts; r++) {
    const centers = [Float64Array.from(points[Math.floor(random() * points.length)])]
    while (centers.length < k) {
      const d = points.map((p) => Math.min(...centers.map((c) => dist(p, c))))
      let pick = random() * d.reduce((a, b) => a + b, 0)
      let i = 0
      while (i < d.length - 1 && pick > d[i]) pick -= d[i++]
      centers.push(Float64Array.from(points[i]))
    }
    let labels = new Array(points.length).fill(0)
    for (let iter = 0; iter < 50; iter++) {
      const next = points.map((p) => {
        let bestC = 0
        for (let c = 1; c < k; c++) if (dist(p, centers[c]) < dist(p, centers[bestC])) bestC = c
        return bestC
      })
      const moved = next.some((l, i) => l !== labels[i])
      labels = next
      for (let c = 0; c < k; c++) {
        const members = points.filter((_, i) => labels[i] === c)
        if (members.length === 0) continue
        const center = new Float64Array(points[0]?.length ?? 0)
        for (const m of members)
          for (let j = 0; j < center.length; j++) center[j] = center[j] + m[j] / members.length
        centers[c] = center
      }
      if (!moved && iter > 0) break
    }
    const cost = points.reduce((s, p, i) => s + dist(p, centers[labels[i]]), 0)
    if (cost < best.cost) best = { labels, cost }
  }
  return best.labels
}
/**
 * Clusters with fewer than `min` members join the cluster whose centroid is nearest.
 * @param {readonly Float64Array[]} x
 * @param {number[]} labels
 * @param {number} min
 * @param {number} minSpeakers
 */
function absorbSmall(x, labels, min, minSpeakers) {
  const out = [...labels]
  for (;;) {
    /** @type {Map<number, number>} */
    const sizes = new Map()
    for (const l of out) sizes.set(l, (sizes.get(l) ?? 0) + 1)
    if (sizes.size <= Math.max(1, minSpeakers)) return out
    const [small] = [...sizes.entries()].filter(([, s]) => s < min).sort((a, b) => a[1] - b[1])
    if (!small) return out
    /** @param {number} label */
    const centroid = (label) => {
      const c = new Float64Array(x[0]?.length ?? 0)
      x.forEach((v, i) => {
        if (out[i] === label) for (let j = 0; j < c.length; j++) c[j] = c[j] + v[j]
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
/** @param {number[]} labels */
function renumber(labels) {
  /** @type {Map<number, number>} */
  const map = new Map()
  const out = labels.map((l) => {
    if (!map.has(l)) map.set(l, map.size)
    return /** @type {number} */ (map.get(l))
  })
  return { labels: out, count: map.size }
}
/**
 * Eigenvalues (ascending) and unit eigenvectors of a real symmetric matrix: Householder
 * reduction to tridiagonal form, then the implicit QL algorithm (tred2 / tql2 of EISPACK, as
 * in JAMA). O(n³).
 * @param {readonly Float64Array[]} matrix
 * @returns {{ values: Float64Array, vectors: Float64Array[] }}
 */
export function symmetricEigen(matrix) {
  const n = matrix.length
  const V = matrix.map((row) => Float64Array.from(row))
  const d = new Float64Array(n)
  const e = new Float64Array(n)
  if (n === 0) return { values: d, vectors: [] }
  tred2(n, V, d, e)
  tql2(n, V, d, e)
  const order = [...d.keys()].sort((a, b) => d[a] - d[b])
  return {
    values: Float64Array.from(order, (i) => d[i]),
    vectors: order.map((j) => Float64Array.from(V, (row) => row[j])),
  }
}
/** Householder reduction to tridiagonal form. @param {number} n @param {Float64Array[]} V @param {Float64Array} d @param {Float64Array} e */
function tred2(n, V, d, e) {
  /** @param {number} i @param {number} j */
  const at = (i, j) => /** @type {number} */ (/** @type {Float64Array} */ (V[i])[j])
  /** @param {number} i @param {number} j @param {number} v */
  const set = (i, j, v) => {
    const row = /** @type {Float64Array} */ (V[i])
    row[j] = v
  }
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j)
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(d[k])
    if (scale === 0) {
      e[i] = d[i - 1]
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j)
        set(i, j, 0)
        set(j, i, 0)
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k] / scale
        h += d[k] ** 2
      }
      let f = d[i - 1]
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      e[i] = scale * g
      h -= f * g
      d[i - 1] = f - g
      for (let j = 0; j < i; j++) e[j] = 0
      for (let j = 0; j < i; j++) {
        f = d[j]
        set(j, i, f)
        g = e[j] + at(j, j) * f
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * d[k]
          e[k] = e[k] + at(k, j) * f
        }
        e[j] = g
      }
      f = 0
      for (let j = 0; j < i; j++) {
        e[j] = e[j] / h
        f += e[j] * d[j]
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) e[j] = e[j] - hh * d[j]
      for (let j = 0; j < i; j++) {
        f = d[j]
        g = e[j]
        for (let k = j; k <= i - 1; k++) set(k, j, at(k, j) - (f * e[k] + g * d[k]))
        d[j] = at(i - 1, j)
        set(i, j, 0)
      }
    }
    d[i] = h
  }
  for (let i = 0; i < n - 1; i++) {
    set(n - 1, i, at(i, i))
    set(i, i, 1)
    const h = d[i + 1]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h
      for (let j = 0; j <= i; j++) {
        let g = 0
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j)
        for (let k = 0; k <= i; k++) set(k, j, at(k, j) - g * d[k])
      }
    }
    for (let k = 0; k <= i; k++) set(k, i + 1, 0)
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1, j)
    set(n - 1, j, 0)
  }
  set(n - 1, n - 1, 1)
  e[0] = 0
}
/** Implicit QL on the tridiagonal form. @param {number} n @param {Float64Array[]} V @param {Float64Array} d @param {Float64Array} e */
function tql2(n, V, d, e) {
  /** @param {number} i @param {number} j */
  const at = (i, j) => /** @type {number} */ (/** @type {Float64Array} */ (V[i])[j])
  /** @param {number} i @param {number} j @param {number} v */
  const set = (i, j, v) => {
    const row = /** @type {Float64Array} */ (V[i])
    row[j] = v
  }
  for (let i = 1; i < n; i++) e[i - 1] = e[i]
  e[n - 1] = 0
  let f = 0
  let tst1 = 0
  const eps = 2 ** -52
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]))
    let m = l
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break
      m++
    }
    if (m > l) {
      for (let iter = 0; iter < 100; iter++) {
        let g = d[l]
        let p = (d[l + 1] - g) / (2 * e[l])
        let r = Math.hypot(p, 1)
        if (p < 0) r = -r
        d[l] = e[l] / (p + r)
        d[l + 1] = e[l] * (p + r)
        const dl1 = d[l + 1]
        let h = g - d[l]
        for (let i = l + 2; i < n; i++) d[i] = d[i] - h
        f += h
        p = d[m]
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = e[l + 1]
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * e[i]
          h = c * p
          r = Math.hypot(p, e[i])
          e[i + 1] = s * r
          s = e[i] / r
          c = p / r
          p = c * d[i] - s * g
          d[i + 1] = h + s * (c * g + s * d[i])
          for (let k = 0; k < n; k++) {
            h = at(k, i + 1)
            set(k, i + 1, s * at(k, i) + c * h)
            set(k, i, c * at(k, i) - s * h)
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1
        e[l] = s * p
        d[l] = c * p
        if (Math.abs(e[l]) <= eps * tst1) break
      }
    }
    d[l] = d[l] + f
    e[l] = 0
  }
}
