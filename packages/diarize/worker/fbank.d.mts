export declare const SAMPLE_RATE: 16000
export declare const FRAME_SAMPLES: 400
export declare const HOP_SAMPLES: 160
export declare const MEL_BINS: 80
/** Number of frames for `samples` samples (a window shorter than one frame is padded to one). */
export declare function frameCount(samples: number): number
/** Features of one window: `frames × 80` values, row-major, mean-normalised per bin unless `meanNorm: false`. */
export declare function fbank(samples: Float32Array, options?: { meanNorm?: boolean }): Float32Array
