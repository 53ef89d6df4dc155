/** What spectralClusters needs: `ClusterOptions` of src/cluster.ts, validated, defaults applied. */
export interface SpectralOptions {
  numSpeakers?: number | undefined
  minSpeakers: number
  maxSpeakers: number
  pruning: number
  refine: boolean
  minClusterWindows: number
  windows?: readonly { start: number; end: number }[] | undefined
}
/** Spectral clustering of embeddings: a label per embedding, numbered in order of first appearance. */
export declare function spectralClusters(
  embeddings: readonly ArrayLike<number>[],
  options: SpectralOptions,
): { labels: number[]; count: number }
/** k-means with k-means++ seeding from a fixed seed (the same input gives the same labels). */
export declare function kmeans(points: readonly Float64Array[], k: number, restarts?: number): number[]
/** Eigen-decomposition of a real symmetric matrix (tred2 / tql2). O(n³). */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array
  /** `vectors[i]` is the unit eigenvector of `values[i]`. */
  vectors: Float64Array[]
}
export declare function symmetricEigen(matrix: readonly Float64Array[]): SymmetricEigen
