import type { Logger } from '@ws/core'
import type { ServerMetrics } from './metrics.js'
import type { ResolvedServerOptions } from './options.js'
import type { SessionSlots, SlotRefusal } from './slots.js'

type Timer = NodeJS.Timeout | undefined

export interface PresenceOptions {
  options: Pick<ResolvedServerOptions, 'idleTimeoutS' | 'noAudioTimeoutS'>
  slots: SessionSlots
  metrics: ServerMetrics
  logger: Logger
  /** Nothing came for `seconds` (`holding`: while the connection held a slot). */
  onIdle: (seconds: number, holding: boolean) => void
  /** No audio for `noAudioTimeoutS` while holding a slot: the slot was given back. */
  onQuiet: () => void
}

/**
 * How long a connection may stay, and whether it holds a session slot. Audio takes a slot
 * (see {@link SessionSlots}) and keeps it while it keeps coming; after `noAudioTimeoutS`
 * without audio the slot is given back (`onQuiet`). Any message — keepalive included — keeps
 * the connection open: for `idleTimeoutS` while it holds a slot, for `noAudioTimeoutS` while
 * it does not, so a socket that sends nothing at all is closed as Deepgram closes one (10 s).
 */
export class Presence {
  readonly #o: PresenceOptions
  #idle: Timer
  /** What the idle timer was set for: its length and whether a slot was held. */
  #idleFor = ''
  #quiet: Timer
  #holding = false
  #stopped = false
  /** The server stopped reading the socket (backpressure): no timer runs. */
  #paused = false

  constructor(options: PresenceOptions) {
    this.#o = options
  }

  /** Whether the connection holds a slot. */
  get holding(): boolean {
    return this.#holding
  }

  /** A message came (any). */
  touch(): void {
    if (this.#stopped || this.#paused) return
    const o = this.#o.options
    const holding = this.#holding || o.noAudioTimeoutS === 0
    const seconds = holding ? o.idleTimeoutS : Math.min(o.idleTimeoutS || Infinity, o.noAudioTimeoutS)
    // Every message comes here: the same timer is pushed back rather than made again.
    const idleFor = `${seconds} ${holding}`
    if (this.#idle && idleFor === this.#idleFor) {
      this.#idle.refresh()
      return
    }
    clearTimeout(this.#idle)
    this.#idle = undefined
    this.#idleFor = idleFor
    if (seconds === 0) return
    this.#idle = setTimeout(() => this.#o.onIdle(seconds, holding), seconds * 1000)
  }

  /** Audio came: undefined when the connection holds a slot (taken now or before), else the refusal. */
  audio(): SlotRefusal | undefined {
    if (this.#stopped) return undefined
    if (!this.#holding) {
      const refusal = this.#o.slots.take()
      if (refusal) {
        this.#o.metrics.refusals.inc({ reason: refusal.reason })
        this.#o.logger.info({ reason: refusal.reason }, 'no session slot for this audio')
        return refusal
      }
      this.#holding = true
      this.touch()
    }
    this.#armQuiet()
    return undefined
  }

  /**
   * The server stopped reading the socket, its engine behind (backpressure): whatever the
   * client sends waits unread, so neither the idle nor the no-audio timer runs until
   * {@link resumed}. A client sending faster than real time was otherwise told `idle_timeout`,
   * and its open utterance cut, while its audio sat in the socket.
   */
  paused(): void {
    this.#paused = true
    clearTimeout(this.#idle)
    this.#idle = undefined
    this.#idleFor = ''
    clearTimeout(this.#quiet)
    this.#quiet = undefined
  }

  /** Reading resumed: the timers start again from now. */
  resumed(): void {
    if (!this.#paused) return
    this.#paused = false
    if (this.#stopped) return
    this.touch()
    if (this.#holding) this.#armQuiet()
  }

  #armQuiet(): void {
    const seconds = this.#o.options.noAudioTimeoutS
    if (seconds === 0 || this.#paused) return
    // Every audio frame comes here: the same timer is pushed back rather than made again.
    if (this.#quiet) this.#quiet.refresh()
    else
      this.#quiet = setTimeout(() => {
        this.#quiet = undefined
        this.#o.logger.info({ seconds }, 'no audio for a while; the session slot is given back')
        this.release()
        this.touch()
        this.#o.onQuiet()
      }, seconds * 1000)
  }

  /** Stops the timers (the connection is finishing or closed); the slot is kept until {@link release}. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#idle)
    clearTimeout(this.#quiet)
  }

  /** Gives the slot back, if held. */
  release(): void {
    clearTimeout(this.#quiet)
    this.#quiet = undefined
    if (!this.#holding) return
    this.#holding = false
    this.#o.slots.give()
  }
}
