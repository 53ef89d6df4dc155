import { describe, expect, it } from 'vitest'
import { kmeans, symmetricEigen } from '../worker/spectral.mjs'
import { clusterEmbeddings, clusterInWorker } from './cluster.js'
import { diarizationErrorRate, toRttm } from './der.js'
import { speakerLetter } from './diarize.js'

// Pure logic, checked on constructed inputs; the real-voice tests are in diarize.test.ts.
let seed = 7
const random = () => {
  seed = (seed * 16807) % 2147483647
  return seed / 2147483647
}

describe('symmetricEigen', () => {
  it('decomposes a symmetric matrix: A v = λ v, orthonormal vectors, ascending values', () => {
    const n = 40
    const A = Array.from({ length: n }, () => new Float64Array(n))
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const v = random() * 2 - 1
        ;(A[i] as Float64Array)[j] = v
        ;(A[j] as Float64Array)[i] = v
      }
    const { values, vectors } = symmetricEigen(A)
    for (let k = 0; k < n; k++) {
      const v = vectors[k] as Float64Array
      for (let i = 0; i < n; i++) {
        let av = 0
        for (let j = 0; j < n; j++) av += ((A[i] as Float64Array)[j] as number) * (v[j] as number)
        expect(Math.abs(av - (values[k] as number) * (v[i] as number))).toBeLessThan(1e-9)
      }
      let norm = 0
      for (const x of v) norm += x * x
      expect(norm).toBeCloseTo(1, 9)
      if (k > 0) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1] as number)
    }
    expect(symmetricEigen([]).values.length).toBe(0)
  })
})

describe('clusterEmbeddings', () => {
  const around = (center: number[], count: number, spread: number) =>
    Array.from({ length: count }, () => Float32Array.from(center, (c) => c + (random() - 0.5) * spread))
  const axis = (i: number) => Array.from({ length: 16 }, (_, j) => (j === i ? 1 : 0))

  it('finds the number of groups from the eigengap and labels them by first appearance', () => {
    const points = [...around(axis(2), 10, 0.3), ...around(axis(5), 12, 0.3), ...around(axis(9), 8, 0.3)]
    const { labels, count } = clusterEmbeddings(points)
    expect(count).toBe(3)
    expect(labels).toEqual([...new Array(10).fill(0), ...new Array(12).fill(1), ...new Array(8).fill(2)])
  })

  it('gives one cluster for one group, and keeps to numSpeakers', () => {
    expect(clusterEmbeddings(around(axis(1), 20, 0.3)).count).toBe(1)
    const two = [...around(axis(2), 10, 0.3), ...around(axis(5), 10, 0.3)]
    expect(clusterEmbeddings(two, { numSpeakers: 2 }).count).toBe(2)
    expect(clusterEmbeddings([]).count).toBe(0)
  })

  it('keeps to maxSpeakers when clusters are clustered again', () => {
    const mix = (a: number, b: number) => axis(a).map((v, j) => v + 0.5 * (axis(b)[j] as number))
    const points = [
      ...around(mix(0, 2), 15, 0.1),
      ...around(mix(0, 3), 15, 0.1),
      ...around(mix(1, 4), 15, 0.1),
      ...around(mix(1, 5), 15, 0.1),
    ]
    expect(clusterEmbeddings(points).count).toBe(4)
    expect(clusterEmbeddings(points, { maxSpeakers: 2 }).count).toBe(2)
    expect(clusterEmbeddings(points, { maxSpeakers: 3 }).count).toBeLessThanOrEqual(3)
  })

  it('k-means is deterministic', () => {
    const pts = around([0, 0], 30, 1).map((p) => Float64Array.from(p))
    expect(kmeans(pts, 3)).toEqual(kmeans(pts, 3))
  })
})

describe('clusterInWorker', () => {
  const groups = (count: number) =>
    Array.from({ length: count }, (_, i) => {
      const g = i % 3
      return Float32Array.from({ length: 32 }, (_, j) => (j % 3 === g ? 1 : 0) + (random() - 0.5) * 0.4)
    })

  it('answers what clusterEmbeddings answers, with the windows that share audio', async () => {
    const points = groups(60)
    const windows = points.map((_, i) => ({ start: i * 0.75, end: i * 0.75 + 1.5 }))
    const inWorker = await clusterInWorker(points, { windows, maxSpeakers: 5 })
    expect(inWorker).toEqual(clusterEmbeddings(points, { windows, maxSpeakers: 5 }))
    expect(inWorker.count).toBe(3)
  })

  it('leaves the event loop free while it clusters (a timer set after the call fires first)', async () => {
    const order: string[] = []
    // 500 windows: hundreds of milliseconds of eigendecomposition on the calling thread.
    const clustering = clusterInWorker(groups(500)).then(() => order.push('clustered'))
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        order.push('timer')
        resolve()
      }, 1),
    )
    await clustering
    expect(order).toEqual(['timer', 'clustered'])
  })

  it('is cancelled by its signal, and refuses bad hints before starting', async () => {
    const ac = new AbortController()
    const clustering = clusterInWorker(groups(500), {}, ac.signal)
    ac.abort()
    await expect(clustering).rejects.toMatchObject({ code: 'aborted' })
    await expect(clusterInWorker(groups(10), { minSpeakers: 3, maxSpeakers: 2 })).rejects.toMatchObject({
      code: 'invalid_config',
    })
  })
})

describe('diarizationErrorRate', () => {
  const ref = [
    { speaker: 'a', start: 0, end: 2 },
    { speaker: 'b', start: 2, end: 4 },
    { speaker: 'c', start: 5, end: 6 },
  ]
  it('is 0 for the same turns under other names, and maps the names', () => {
    const hyp = ref.map((t) => ({ ...t, speaker: t.speaker.toUpperCase() }))
    const r = diarizationErrorRate(ref, hyp, { collarSeconds: 0 })
    expect(r.der).toBe(0)
    expect([...r.mapping.entries()].sort()).toEqual([
      ['A', 'a'],
      ['B', 'b'],
      ['C', 'c'],
    ])
  })

  it('counts confusion, missed speech and false alarms, outside the collar', () => {
    const hyp = [
      { speaker: 'X', start: 0, end: 4 },
      { speaker: 'Y', start: 4.5, end: 5 },
    ]
    const r = diarizationErrorRate(ref, hyp, { collarSeconds: 0 })
    expect(r.confusion).toBeCloseTo(2, 5)
    expect(r.missed).toBeCloseTo(1, 5)
    expect(r.falseAlarm).toBeCloseTo(0.5, 5)
    expect(r.der).toBeCloseTo(3.5 / 5, 5)
    const collared = diarizationErrorRate(ref, hyp)
    // Collars at 0, 2 (twice), 4, 5 and 6 remove 0.25 + 0.5 + 0.25 + 0.25 + 0.25 s of speech.
    expect(collared.scored).toBeCloseTo(3.5, 5)
  })

  it('scores overlapping speech once per speaker, as md-eval does', () => {
    const both = [
      { speaker: 'a', start: 0, end: 3 },
      { speaker: 'b', start: 2, end: 4 },
    ]
    // Exact: 5 s of speaker time, 1 s of it two people at once.
    const exact = diarizationErrorRate(both, both, { collarSeconds: 0 })
    expect(exact.der).toBe(0)
    expect(exact.scored).toBeCloseTo(5, 5)
    // One speaker a time, the turn changing at 3 s: b's first second is missed.
    const single = diarizationErrorRate(
      both,
      [
        { speaker: 'A', start: 0, end: 3 },
        { speaker: 'B', start: 3, end: 4 },
      ],
      { collarSeconds: 0 },
    )
    expect(single.missed).toBeCloseTo(1, 5)
    expect(single.confusion).toBeCloseTo(0, 5)
    expect(single.der).toBeCloseTo(1 / 5, 5)
    // Two hypothesis speakers in the overlap, one of them wrong: confusion, not a miss.
    const wrong = diarizationErrorRate(
      both,
      [
        { speaker: 'A', start: 0, end: 3 },
        { speaker: 'B', start: 3, end: 4 },
        { speaker: 'C', start: 2, end: 3 },
      ],
      { collarSeconds: 0 },
    )
    expect(wrong.missed).toBeCloseTo(0, 5)
    expect(wrong.confusion).toBeCloseTo(1, 5)
  })

  it('writes RTTM and letters like OpenAI', () => {
    expect(toRttm([{ speaker: 'A', start: 1, end: 2.5 }], 'call')).toBe(
      'SPEAKER call 1 1.000 1.500 <NA> <NA> A <NA> <NA>\n',
    )
    expect([0, 1, 25, 26, 27].map(speakerLetter)).toEqual(['A', 'B', 'Z', 'AA', 'AB'])
  })
})
