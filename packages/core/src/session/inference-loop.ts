import { isWsError, toWsError } from '../errors.js'
import type {
  FinalOptions,
  SpeculativeFinal,
  UtteranceTranscriber,
  UtteranceTranscript,
} from '../strategies/strategy.js'
import { degenerateText } from '../text/degenerate.js'
import { segmentTimes } from '../text/segment-times.js'
import { shiftSegment, withoutWords, wordsOf } from '../text/words.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'
import { acquireTurn, type InferenceTicket, turnSignal } from './inference-gate.js'
import type { InferenceLoopOptions } from './inference-loop-options.js'
import type { TrackedUtterance } from './utterance-tracker.js'

export type { InferenceLoopOptions }

const SR = WHISPER_SAMPLE_RATE

/** A final computed ahead from the first `length` samples; void once speech follows them. */
interface Speculation {
  length: number
  valid: boolean
  result: Promise<SpeculativeFinal | undefined>
  stop: () => void
}

/** What the loop keeps of an utterance. */
interface Job {
  u: TrackedUtterance
  transcriber: UtteranceTranscriber
  lastPartialAt: number
  /** What the last partial cost, in samples of audio time. */
  lastPartialCost: number
  partialWanted: boolean
  partialAbort: AbortController | undefined
  closed: boolean
  speculation: Speculation | undefined
}

/** A session's transcriptions, one at a time: finals first, in order, then the open utterance's
 * partial when enough new audio came; a final computed ahead when the speaker seems done. Each
 * request waits for its turn at the gate, if there is one. */
export class InferenceLoop {
  readonly #o: InferenceLoopOptions
  #open: Job | undefined
  #finals: Job[] = []
  #finalizing = 0 // samples of the final being transcribed
  #working = false
  #finishing = false
  #revision: AbortController | undefined

  constructor(options: InferenceLoopOptions) {
    this.#o = options
  }

  /** Working, or finals (or revisions) still queued. Once the session closed, only a call still
   * running counts: what was queued will never run, so closing cannot wait for it. */
  get busy(): boolean {
    if (this.#working) return true
    if (this.#o.signal.aborted) return false
    return this.#finals.length > 0 || (this.#o.reviser?.due ?? false)
  }

  /** The stream ended: after the last final, the reviser's open block is revised too. */
  finish(): void {
    this.#finishing = true
    void this.#work()
  }

  /** Samples of closed utterances not yet finalised. */
  get pendingSamples(): number {
    let samples = this.#finalizing
    for (const job of this.#finals) samples += job.u.audio.length
    return samples
  }

  open(u: TrackedUtterance): void {
    this.#open = {
      u,
      transcriber: this.#o.strategy.utterance(),
      lastPartialAt: 0,
      lastPartialCost: 0,
      partialWanted: false,
      partialAbort: undefined,
      closed: false,
      speculation: undefined,
    }
  }

  /** The open utterance ended: its final is queued. */
  close(u: TrackedUtterance): void {
    const job = this.#end(u)
    if (!job) return
    this.#finals.push(job)
    // A final does not wait behind a revision the backend can stop: the revision runs again later.
    if (this.#o.backend.stopsRunningCalls) this.#revision?.abort()
    void this.#work()
  }

  /** The open utterance ended without a final. */
  drop(u: TrackedUtterance): void {
    this.#end(u)
    if (this.#o.reviser?.due) void this.#work()
  }

  /** Speech resumed in the open utterance: a final computed ahead is void. */
  speechResumed(): void {
    const s = this.#open?.speculation
    if (s?.valid) {
      s.valid = false
      s.stop()
    }
  }

  /** The open utterance has been silent for `silentSamples`: once that reaches
   * `speculateSamples`, its final is computed ahead (see `speculativeFinalMs`). */
  silence(silentSamples: number): void {
    const job = this.#open
    if (!job || this.#o.speculateSamples === 0 || silentSamples < this.#o.speculateSamples) return
    if (!job.transcriber.speculate || job.speculation?.valid || job.closed) return
    // The previous utterance's final must be in: it sets the prompt and context of this one.
    if (this.#finals.length > 0 || this.#finalizing > 0) return
    // Speech may resume and waste it. A backend that can stop a running call stops it then,
    // so it is asked for whatever else the engine does: it waits behind the finals and takes
    // the turn of a partial or revision as a final does (it supersedes this utterance's
    // partial: no partial runs while one is valid). Other backends compute it ahead only
    // when they have nothing else to do.
    const { gate, backend } = this.#o
    if (backend.stopsRunningCalls) job.partialAbort?.abort()
    else if (gate?.idle && !gate.idle()) return
    const length = job.u.audio.length
    const audio = job.u.audio.view(0, length)
    // A backend that can stop a running call stops a speculation as soon as speech resumes.
    const stop = new AbortController()
    const signal = backend.stopsRunningCalls ? AbortSignal.any([this.#o.signal, stop.signal]) : this.#o.signal
    const transcriber = job.transcriber
    const result = (async () => {
      const ticket = await acquireTurn(this.#o.gate, 'final', signal, { ahead: true }).catch(() => undefined)
      if (!ticket) return undefined
      try {
        return await transcriber.speculate!(audio, signal, this.#finalOptions(ticket))
      } catch (err) {
        this.#o.logger.debug({ err, utteranceId: job.u.id }, 'speculative final failed')
        return undefined
      } finally {
        if (ticket !== 'none') ticket.release(signal.aborted ? undefined : length / SR)
      }
    })()
    job.speculation = { length, valid: true, result, stop: () => stop.abort() }
  }

  /** Asks for a partial of the open utterance if enough new audio came: `partialSamples`, or
   * more as the utterance grows (each partial decodes all of it, so a fixed cadence would
   * make partial work per second grow with its length) and when partials run slowly. */
  schedulePartial(): void {
    const job = this.#open
    const o = this.#o
    if (!job || o.partialSamples === 0 || job.closed || job.speculation?.valid) return
    const length = job.u.safeLength
    if (length < o.minPartialSamples) return
    const interval = Math.max(
      o.partialSamples,
      // The first partial shows text early; a strategy's longer steps start after it.
      job.lastPartialAt > 0 ? o.minStepSamples : 0,
      o.partialIntervalRatio * job.lastPartialAt,
      job.lastPartialCost / o.maxPartialLoad,
    )
    if (length - job.lastPartialAt < interval) return
    job.partialWanted = true
    void this.#work()
  }

  /** The session closed: queued finals and revisions are dropped; a running partial, revision
   * or final computed ahead is stopped (the session's signal stops the rest). */
  stop(): void {
    this.#finals = []
    this.#open?.partialAbort?.abort()
    this.#open?.speculation?.stop()
    this.#revision?.abort()
    this.#o.reviser?.stop()
  }

  #end(u: TrackedUtterance): Job | undefined {
    const job = this.#open
    if (!job || job.u !== u) return undefined
    this.#open = undefined
    job.closed = true
    job.partialWanted = false
    job.partialAbort?.abort()
    return job
  }

  async #work(): Promise<void> {
    if (this.#working) return
    this.#working = true
    try {
      while (!this.#o.signal.aborted) {
        const final = this.#finals.shift()
        if (final) {
          this.#finalizing = final.u.audio.length
          try {
            await this.#runFinal(final)
          } finally {
            this.#finalizing = 0
            this.#o.onFinalDone?.()
          }
          continue
        }
        const reviser = this.#o.reviser
        if (this.#finishing && !this.#open) reviser?.finish()
        // A revision waits for a pause (no utterance open), where the next final is at least a
        // whole utterance away, unless blocks pile up in speech that does not pause.
        if (reviser?.due && (!this.#open || this.#finishing || reviser.backlog > 1)) {
          this.#revision = new AbortController()
          await reviser.run(this.#revision.signal)
          this.#revision = undefined
          continue
        }
        const job = this.#open
        if (job?.partialWanted) {
          await this.#runPartial(job)
          this.schedulePartial()
          continue
        }
        break
      }
    } finally {
      this.#working = false
      this.#o.onIdle()
    }
  }

  async #runPartial(job: Job): Promise<void> {
    const { u } = job
    job.partialWanted = false
    job.lastPartialAt = u.safeLength
    const abort = new AbortController()
    job.partialAbort = abort
    const onClose = () => abort.abort()
    this.#o.signal.addEventListener('abort', onClose, { once: true })
    let ticket: InferenceTicket | 'none' | undefined
    try {
      ticket = await acquireTurn(this.#o.gate, 'partial', abort.signal)
      if (!ticket || job.closed) return
      // Read the audio only now: a partial that waited covers everything received meanwhile.
      const length = u.safeLength
      job.lastPartialAt = length
      const started = performance.now()
      // Behind a gate, a partial that got its turn runs to the end (only closing the session
      // stops it) unless the backend can stop a running call: the turn is released when the
      // backend is really free, which keeps the scheduler's accounting true.
      const stops = this.#o.backend.stopsRunningCalls
      const signal = turnSignal(ticket, ticket === 'none' || stops ? abort.signal : this.#o.signal, stops)
      const busy = ticket !== 'none' && !!ticket.busy
      const result = await job.transcriber.partial(u.audio.view(0, length), signal, busy ? { busy } : {})
      job.lastPartialCost = ((performance.now() - started) / 1000) * SR
      if (abort.signal.aborted || job.closed) return
      // A looping or overlong preview is not shown: the next partial or the final replaces it.
      const degenerate = degenerateText(result.text, length / SR)
      if (degenerate) {
        this.#o.logger.debug(
          { utteranceId: u.id, reason: degenerate, text: result.text },
          'degenerate partial dropped',
        )
        return
      }
      this.#o.emit({
        type: 'partial',
        utteranceId: u.id,
        text: result.text,
        stable: result.stable,
        unstable: result.unstable,
        audioStart: u.start / SR,
        audioEnd: (u.start + length) / SR,
        processingTimeMs: Math.round(performance.now() - started),
        lagSeconds: Math.max(0, this.#o.received() - (u.start + length)) / SR,
      })
    } catch (err) {
      if (abort.signal.aborted || isWsError(err, 'aborted')) return
      this.#o.logger.warn({ err, utteranceId: u.id }, 'partial transcription failed')
      this.#o.emit({ type: 'error', error: toWsError(err, 'backend_failed', true), utteranceId: u.id })
    } finally {
      if (ticket && ticket !== 'none') ticket.release()
      job.partialAbort = undefined
      this.#o.signal.removeEventListener('abort', onClose)
    }
  }

  async #runFinal(job: Job): Promise<void> {
    const { u } = job
    const audio = u.audio.view()
    const started = performance.now()
    const speculation = job.speculation
    if (speculation?.valid && speculation.length <= audio.length) {
      // Only silence came after the audio it covers: it is this utterance's final.
      const ready = await speculation.result
      if (this.#o.signal.aborted) return
      if (ready && speculation.valid) {
        ready.commit()
        this.#emitFinal(u, ready.transcript, started)
        return
      }
    }
    this.#o.logger.debug(
      { utteranceId: u.id, ahead: !speculation ? 'none' : speculation.valid ? 'failed' : 'void' },
      'final not computed ahead',
    )
    const ticket = await acquireTurn(this.#o.gate, 'final', this.#o.signal).catch((err: unknown) => {
      const [audioStart, audioEnd] = [u.start / SR, (u.start + audio.length) / SR]
      this.#o.emit({ type: 'error', error: toWsError(err), utteranceId: u.id, audioStart, audioEnd })
      return undefined
    })
    if (!ticket) return
    try {
      await this.#transcribeFinal(job, audio, started, this.#finalOptions(ticket))
    } finally {
      if (ticket !== 'none') ticket.release(audio.length / SR)
    }
  }

  /** A final's options: `busy` as its ticket says; its words kept for the reviser, which weighs them. */
  #finalOptions(ticket: InferenceTicket | 'none'): FinalOptions {
    return { busy: ticket !== 'none' && !!ticket.busy, ...(this.#o.finalWords ? { words: true } : {}) }
  }

  #emitFinal(u: TrackedUtterance, result: UtteranceTranscript, started: number): void {
    const audioStart = u.start / SR
    // Timed by their words where the final has them (see segmentTimes).
    const segments = segmentTimes(result.segments.map((s) => shiftSegment(s, audioStart)))
    const degenerate = degenerateText(result.text, u.audio.length / SR)
    if (degenerate) this.#o.logger.warn({ utteranceId: u.id, reason: degenerate }, 'final looks degenerate')
    this.#o.emit({
      type: 'final',
      utteranceId: u.id,
      text: result.text,
      segments: withoutWords(segments, this.#o.wordTimestamps),
      language: result.language,
      audioStart,
      audioEnd: (u.start + u.audio.length) / SR,
      processingTimeMs: Math.round(performance.now() - started),
      reason: u.reason ?? 'end',
      ...(degenerate ? { lowConfidence: true as const } : {}),
    })
    // A final that heard nothing (silence, or text the backend dropped as not speech) is not
    // revised: decoded again in a block, on a wider beam, noise came back as made-up sentences
    // ("I'm going to go to the next one.") where every final had been empty.
    if (result.text.trim()) this.#o.reviser?.add(u.id, u.audio.view(), u.start, wordsOf(segments))
  }

  /** The final, retried once when the failure is retryable; a failure names the audio lost. */
  async #transcribeFinal(job: Job, audio: Float32Array, started: number, options: FinalOptions) {
    const { u } = job
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await job.transcriber.final(audio, this.#o.signal, options)
        this.#emitFinal(u, result, started)
        return
      } catch (err) {
        if (this.#o.signal.aborted) return
        const error = toWsError(err, 'backend_failed', true)
        if (error.retryable && attempt < 2) {
          this.#o.logger.warn({ err, utteranceId: u.id }, 'final transcription failed; retrying once')
          continue
        }
        this.#o.logger.error({ err, utteranceId: u.id }, 'final transcription failed')
        const audioStart = u.start / SR
        const audioEnd = audioStart + audio.length / SR
        this.#o.emit({ type: 'error', error, utteranceId: u.id, audioStart, audioEnd })
        return
      }
    }
  }
}
