/**
 * The labels of a sequence of windows that score best overall when each change of label costs
 * `switchCost` (Viterbi): `scores[t][k]` is how well window `t` fits label `k` (higher is
 * better; `-Infinity` forbids it). `switchCost` is one cost for every change, or one per
 * transition (`switchCost[t - 1]` between windows `t - 1` and `t`: e.g. cheaper where the
 * speech pauses). Returns one label index per window; ties keep the lower index. A speaker does
 * not change at every window whose nearest voice flickers, only where the gain over the
 * following windows outweighs the switch.
 */
export function bestPath(
  scores: readonly (readonly number[])[],
  switchCost: number | readonly number[],
): number[] {
  const T = scores.length
  if (T === 0) return []
  const K = (scores[0] as readonly number[]).length
  let total = Float64Array.from(scores[0] as readonly number[])
  const from: Int32Array[] = []
  for (let t = 1; t < T; t++) {
    const row = scores[t] as readonly number[]
    const cost = typeof switchCost === 'number' ? switchCost : (switchCost[t - 1] as number)
    const next = new Float64Array(K)
    const back = new Int32Array(K)
    for (let k = 0; k < K; k++) {
      let best = Number.NEGATIVE_INFINITY
      let arg = k
      for (let j = 0; j < K; j++) {
        const v = (total[j] as number) - (j === k ? 0 : cost)
        if (v > best || (v === best && j < arg)) {
          best = v
          arg = j
        }
      }
      next[k] = best + (row[k] as number)
      back[k] = arg
    }
    from.push(back)
    total = next
  }
  let k = 0
  for (let j = 1; j < K; j++) if ((total[j] as number) > (total[k] as number)) k = j
  const path = new Array<number>(T)
  for (let t = T - 1; t >= 0; t--) {
    path[t] = k
    if (t > 0) k = (from[t - 1] as Int32Array)[k] as number
  }
  return path
}
