/** What a long step reports while it runs. */
export interface ProgressEvent {
  /** A short machine-readable stage, e.g. `download`, `extract`, `verify`, `done`. */
  stage: string
  message: string
  loadedBytes?: number
  totalBytes?: number
}

export type ProgressListener = (event: ProgressEvent) => void

/** A listener that writes progress to a stream as lines (for CLIs and setup scripts). */
export function progressPrinter(stream: NodeJS.WritableStream = process.stderr): ProgressListener {
  let lastPercent = -1
  return (event) => {
    if (event.totalBytes && event.loadedBytes !== undefined) {
      const percent = Math.floor((event.loadedBytes / event.totalBytes) * 100)
      if (percent === lastPercent || (percent % 10 !== 0 && percent !== 100)) return
      lastPercent = percent
      stream.write(`  ${event.message} ${percent}% (${mb(event.loadedBytes)} of ${mb(event.totalBytes)})\n`)
      return
    }
    lastPercent = -1
    stream.write(`  ${event.message}\n`)
  }
}

export function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`
}
