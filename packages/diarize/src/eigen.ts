/**
 * Eigenvalues and eigenvectors of a real symmetric matrix: Householder reduction to
 * tridiagonal form, then the implicit QL algorithm (tred2 / tql2 of EISPACK, as in JAMA).
 * O(n³); a few hundred rows take milliseconds.
 */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array
  /** `vectors[i]` is the unit eigenvector of `values[i]`. */
  vectors: Float64Array[]
}

export function symmetricEigen(matrix: readonly Float64Array[]): SymmetricEigen {
  const n = matrix.length
  const V = matrix.map((row) => Float64Array.from(row))
  const d = new Float64Array(n)
  const e = new Float64Array(n)
  if (n === 0) return { values: d, vectors: [] }
  tred2(n, V, d, e)
  tql2(n, V, d, e)
  const order = [...d.keys()].sort((a, b) => (d[a] as number) - (d[b] as number))
  return {
    values: Float64Array.from(order, (i) => d[i] as number),
    vectors: order.map((j) => Float64Array.from(V, (row) => row[j] as number)),
  }
}

function tred2(n: number, V: Float64Array[], d: Float64Array, e: Float64Array): void {
  const at = (i: number, j: number) => (V[i] as Float64Array)[j] as number
  const set = (i: number, j: number, v: number) => {
    ;(V[i] as Float64Array)[j] = v
  }
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j)
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number)
    if (scale === 0) {
      e[i] = d[i - 1] as number
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j)
        set(i, j, 0)
        set(j, i, 0)
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale
        h += (d[k] as number) ** 2
      }
      let f = d[i - 1] as number
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      e[i] = scale * g
      h -= f * g
      d[i - 1] = f - g
      for (let j = 0; j < i; j++) e[j] = 0
      for (let j = 0; j < i; j++) {
        f = d[j] as number
        set(j, i, f)
        g = (e[j] as number) + at(j, j) * f
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * (d[k] as number)
          e[k] = (e[k] as number) + at(k, j) * f
        }
        e[j] = g
      }
      f = 0
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h
        f += (e[j] as number) * (d[j] as number)
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number)
      for (let j = 0; j < i; j++) {
        f = d[j] as number
        g = e[j] as number
        for (let k = j; k <= i - 1; k++) set(k, j, at(k, j) - (f * (e[k] as number) + g * (d[k] as number)))
        d[j] = at(i - 1, j)
        set(i, j, 0)
      }
    }
    d[i] = h
  }
  for (let i = 0; i < n - 1; i++) {
    set(n - 1, i, at(i, i))
    set(i, i, 1)
    const h = d[i + 1] as number
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h
      for (let j = 0; j <= i; j++) {
        let g = 0
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j)
        for (let k = 0; k <= i; k++) set(k, j, at(k, j) - g * (d[k] as number))
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

function tql2(n: number, V: Float64Array[], d: Float64Array, e: Float64Array): void {
  const at = (i: number, j: number) => (V[i] as Float64Array)[j] as number
  const set = (i: number, j: number, v: number) => {
    ;(V[i] as Float64Array)[j] = v
  }
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number
  e[n - 1] = 0
  let f = 0
  let tst1 = 0
  const eps = 2 ** -52
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number))
    let m = l
    while (m < n) {
      if (Math.abs(e[m] as number) <= eps * tst1) break
      m++
    }
    if (m > l) {
      for (let iter = 0; iter < 100; iter++) {
        let g = d[l] as number
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number))
        let r = Math.hypot(p, 1)
        if (p < 0) r = -r
        d[l] = (e[l] as number) / (p + r)
        d[l + 1] = (e[l] as number) * (p + r)
        const dl1 = d[l + 1] as number
        let h = g - (d[l] as number)
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h
        f += h
        p = d[m] as number
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = e[l + 1] as number
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * (e[i] as number)
          h = c * p
          r = Math.hypot(p, e[i] as number)
          e[i + 1] = s * r
          s = (e[i] as number) / r
          c = p / r
          p = c * (d[i] as number) - s * g
          d[i + 1] = h + s * (c * g + s * (d[i] as number))
          for (let k = 0; k < n; k++) {
            h = at(k, i + 1)
            set(k, i + 1, s * at(k, i) + c * h)
            set(k, i, c * at(k, i) - s * h)
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1
        e[l] = s * p
        d[l] = c * p
        if (Math.abs(e[l] as number) <= eps * tst1) break
      }
    }
    d[l] = (d[l] as number) + f
    e[l] = 0
  }
}
