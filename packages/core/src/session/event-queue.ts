/**
 * A single-consumer async queue: producers `push`, the consumer iterates with `for await`.
 * Leaving the loop early (`break`, `return`, a throw) calls `onReturn`, so a stream closes
 * when its reader stops reading.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = []
  #waiting: ((result: IteratorResult<T>) => void) | undefined
  #done = false
  #error: Error | undefined
  #rejectWaiting: ((error: Error) => void) | undefined
  #onReturn: (() => void) | undefined

  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn
  }

  get done(): boolean {
    return this.#done
  }

  /** Items not yet read. */
  get size(): number {
    return this.#items.length
  }

  push(item: T): void {
    if (this.#done) return
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      waiting({ value: item, done: false })
    } else {
      this.#items.push(item)
    }
  }

  /** No more items: the iteration ends once the queued ones are read. */
  end(): void {
    if (this.#done) return
    this.#done = true
    const waiting = this.#waiting
    this.#waiting = undefined
    this.#rejectWaiting = undefined
    waiting?.({ value: undefined, done: true })
  }

  /** Ends the iteration with an error: the loop throws it once the queued items are read. */
  fail(error: Error): void {
    if (this.#done) return
    this.#error = error
    this.#done = true
    const reject = this.#rejectWaiting
    this.#waiting = undefined
    this.#rejectWaiting = undefined
    if (reject) {
      this.#error = undefined
      reject(error)
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.#error) {
      const error = this.#error
      this.#error = undefined
      return Promise.reject(error)
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiting) return Promise.reject(new Error('EventQueue has a single consumer'))
    return new Promise((resolve, reject) => {
      this.#waiting = resolve
      this.#rejectWaiting = reject
    })
  }

  return(): Promise<IteratorResult<T>> {
    this.#items = []
    this.end()
    const onReturn = this.#onReturn
    this.#onReturn = undefined
    onReturn?.()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
