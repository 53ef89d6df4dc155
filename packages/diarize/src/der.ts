import type { SpeakerTurn } from './diarize.js'

export interface DerOptions {
  /** Seconds around each reference boundary left out of scoring (default 0.25; 0 for none). */
  collarSeconds?: number
  /** Scoring resolution (default 0.01 s). */
  frameSeconds?: number
}

export interface DerResult {
  /** (missed + false alarm + confusion) / scored reference speech. */
  der: number
  missed: number
  falseAlarm: number
  confusion: number
  /** Seconds of reference speech scored (overlapping speech once per speaker). */
  scored: number
  /** Each hypothesis speaker's reference speaker under the best mapping. */
  mapping: Map<string, string>
}

/**
 * Diarization error rate, as NIST md-eval scores it: frames near reference boundaries (the
 * collar) are not scored; hypothesis speakers are mapped to reference speakers one-to-one to
 * maximise their time together (Hungarian algorithm); then, frame by frame, with `R` reference
 * and `H` hypothesis speakers of which `C` are mapped pairs, missed speech is `max(0, R − H)`,
 * false alarm `max(0, H − R)` and confusion `min(R, H) − C`, summed over the scored frames and
 * divided by the reference speaker time (`R` summed). Overlapping speech counts once per
 * speaker: two people at once are two seconds a second, and a hypothesis that names only one of
 * them misses the other. At most 31 speakers a side.
 */
export function diarizationErrorRate(
  reference: readonly SpeakerTurn[],
  hypothesis: readonly SpeakerTurn[],
  options: DerOptions = {},
): DerResult {
  const collar = options.collarSeconds ?? 0.25
  const step = options.frameSeconds ?? 0.01
  const end = Math.max(0, ...reference.map((t) => t.end), ...hypothesis.map((t) => t.end))
  const frames = Math.ceil(end / step)
  const refSpeakers = [...new Set(reference.map((t) => t.speaker))]
  const hypSpeakers = [...new Set(hypothesis.map((t) => t.speaker))]
  if (refSpeakers.length > 31 || hypSpeakers.length > 31)
    throw new RangeError('diarizationErrorRate scores at most 31 speakers a side')
  /** Each frame's speakers, one bit each. */
  const paint = (turns: readonly SpeakerTurn[], speakers: string[]) => {
    const out = new Int32Array(frames)
    for (const t of turns) {
      const bit = 1 << speakers.indexOf(t.speaker)
      for (let f = Math.round(t.start / step); f < Math.min(frames, Math.round(t.end / step)); f++)
        out[f] = (out[f] as number) | bit
    }
    return out
  }
  const ref = paint(reference, refSpeakers)
  const hyp = paint(hypothesis, hypSpeakers)
  const scored = new Uint8Array(frames).fill(1)
  if (collar > 0) {
    for (const t of reference) {
      for (const b of [t.start, t.end]) {
        for (
          let f = Math.max(0, Math.round((b - collar) / step));
          f < Math.min(frames, Math.round((b + collar) / step));
          f++
        )
          scored[f] = 0
      }
    }
  }
  const bits = (mask: number, count: number) => {
    const out: number[] = []
    for (let i = 0; i < count; i++) if (mask & (1 << i)) out.push(i)
    return out
  }
  const overlap = refSpeakers.map(() => new Float64Array(hypSpeakers.length))
  for (let f = 0; f < frames; f++) {
    if (!scored[f] || !ref[f] || !hyp[f]) continue
    for (const r of bits(ref[f] as number, refSpeakers.length)) {
      const row = overlap[r] as Float64Array
      for (const h of bits(hyp[f] as number, hypSpeakers.length)) row[h] = (row[h] as number) + 1
    }
  }
  const assignment = maxAssignment(overlap)
  const mapping = new Map<string, string>()
  /** The bit of each hypothesis speaker's mapped reference speaker (0: none). */
  const mappedBit = new Int32Array(hypSpeakers.length)
  assignment.forEach((h, r) => {
    if (h >= 0 && ((overlap[r] as Float64Array)[h] as number) > 0) {
      mapping.set(hypSpeakers[h] as string, refSpeakers[r] as string)
      mappedBit[h] = 1 << r
    }
  })
  const count = (mask: number) => {
    let n = 0
    for (let m = mask; m; m &= m - 1) n++
    return n
  }
  let missed = 0
  let falseAlarm = 0
  let confusion = 0
  let total = 0
  for (let f = 0; f < frames; f++) {
    if (!scored[f]) continue
    const r = ref[f] as number
    const h = hyp[f] as number
    const nr = count(r)
    const nh = count(h)
    let correct = 0
    for (const i of bits(h, hypSpeakers.length)) if (r & (mappedBit[i] as number)) correct++
    total += nr
    missed += Math.max(0, nr - nh)
    falseAlarm += Math.max(0, nh - nr)
    confusion += Math.min(nr, nh) - correct
  }
  const der = total === 0 ? 0 : (missed + falseAlarm + confusion) / total
  return {
    der,
    missed: missed * step,
    falseAlarm: falseAlarm * step,
    confusion: confusion * step,
    scored: total * step,
    mapping,
  }
}

/** The one-to-one assignment of rows to columns with the largest total (−1: unassigned). */
function maxAssignment(weights: readonly Float64Array[]): number[] {
  const rows = weights.length
  const cols = weights[0]?.length ?? 0
  const n = Math.max(rows, cols)
  if (n === 0) return []
  const max = Math.max(0, ...weights.flatMap((r) => [...r]))
  const cost = (i: number, j: number) =>
    i < rows && j < cols ? max - ((weights[i] as Float64Array)[j] as number) : max
  // Hungarian algorithm (potentials), 1-based as in its usual statement.
  const u = new Float64Array(n + 1)
  const v = new Float64Array(n + 1)
  const p = new Int32Array(n + 1)
  const way = new Int32Array(n + 1)
  for (let i = 1; i <= n; i++) {
    p[0] = i
    let j0 = 0
    const minv = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY)
    const used = new Uint8Array(n + 1)
    do {
      used[j0] = 1
      const i0 = p[j0] as number
      let delta = Number.POSITIVE_INFINITY
      let j1 = 0
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue
        const cur = cost(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number)
        if (cur < (minv[j] as number)) {
          minv[j] = cur
          way[j] = j0
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number
          j1 = j
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta
          v[j] = (v[j] as number) - delta
        } else minv[j] = (minv[j] as number) - delta
      }
      j0 = j1
    } while (p[j0] !== 0)
    do {
      const j1 = way[j0] as number
      p[j0] = p[j1] as number
      j0 = j1
    } while (j0 !== 0)
  }
  const out = new Array<number>(rows).fill(-1)
  for (let j = 1; j <= n; j++) {
    const i = (p[j] as number) - 1
    if (i >= 0 && i < rows && j - 1 < cols) out[i] = j - 1
  }
  return out
}

/** Turns as RTTM lines (`SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`). */
export function toRttm(turns: readonly SpeakerTurn[], file = 'audio'): string {
  return turns
    .map(
      (t) =>
        `SPEAKER ${file} 1 ${t.start.toFixed(3)} ${(t.end - t.start).toFixed(3)} <NA> <NA> ${t.speaker} <NA> <NA>\n`,
    )
    .join('')
}
