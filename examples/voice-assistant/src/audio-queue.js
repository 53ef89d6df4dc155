/**
 * Plays sentence audio in the order it was queued: one at a time (FIFO), pause / resume, a
 * file that fails to load or play is skipped, `clear()` stops everything (barge-in).
 * Browsers refuse to play sound before a user gesture: call `warmUp()` from one (a click) and
 * later plays are allowed.
 */
export class AudioQueue {
  #queue = []
  #current = null
  #paused = false
  #onChange

  /** @param {{ onChange?: (state: { playing: string | null, queued: number, paused: boolean }) => void }} [options] */
  constructor(options = {}) {
    this.#onChange = options.onChange ?? (() => {})
  }

  get state() {
    return { playing: this.#current?.url ?? null, queued: this.#queue.length, paused: this.#paused }
  }

  /** Unlocks audio output: plays a silent sound inside the user gesture that calls it. */
  async warmUp() {
    const silent = new Audio(
      'data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=',
    )
    try {
      await silent.play()
    } catch {
      // Nothing to unlock, or not in a gesture: the first real play will tell.
    }
  }

  /** Adds a file to play after those already queued. */
  enqueue(url) {
    this.#queue.push(url)
    this.#changed()
    this.#next()
  }

  pause() {
    this.#paused = true
    this.#current?.audio.pause()
    this.#changed()
  }

  resume() {
    this.#paused = false
    if (this.#current) this.#current.audio.play().catch(() => this.#skip())
    else this.#next()
    this.#changed()
  }

  /** Stops the sound playing and forgets the queue. */
  clear() {
    this.#queue = []
    if (this.#current) {
      this.#current.audio.pause()
      this.#current.audio.src = ''
      this.#current = null
    }
    this.#changed()
  }

  #changed() {
    this.#onChange(this.state)
  }

  #skip() {
    this.#current = null
    this.#changed()
    this.#next()
  }

  #next() {
    if (this.#current || this.#paused) return
    const url = this.#queue.shift()
    if (url === undefined) return
    const audio = new Audio(url)
    const current = { url, audio }
    this.#current = current
    const done = () => {
      if (this.#current === current) this.#skip()
    }
    audio.addEventListener('ended', done)
    audio.addEventListener('error', done)
    audio.play().catch(done)
    this.#changed()
  }
}
