/** Sets the calling thread's nice value on Linux (0–19; 0 leaves it). Returns whether it was set. */
export declare function lowerThreadPriority(niceness: number): boolean
