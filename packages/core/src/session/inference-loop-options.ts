import type { WhisperBackend } from '../backend.js'
import type { Logger } from '../logger.js'
import type { Strategy } from '../strategies/strategy.js'
import type { FinalEvent, PartialEvent, SessionErrorEvent } from './events.js'
import type { Reviser } from './reviser.js'
import type { InferenceGate } from './scheduler.js'

/** What a session gives its inference loop: the loop's whole configuration and its outlets. */
export interface InferenceLoopOptions {
  strategy: Strategy
  backend: WhisperBackend
  gate?: InferenceGate | undefined
  logger: Logger
  /** The session's: aborting stops everything. */
  signal: AbortSignal
  /** New samples between partials; 0 turns partials off. */
  partialSamples: number
  /** New samples between partials after the first, at least (the strategy's own bound). */
  minStepSamples: number
  /** The interval between partials is at least this fraction of the utterance so far. */
  partialIntervalRatio: number
  /** Partials take at most this share of the backend's time (see `maxPartialLoad`). */
  maxPartialLoad: number
  /** No partial for an utterance shorter than this. */
  minPartialSamples: number
  /** Silence inside an utterance after which its final is computed ahead; 0 turns it off. */
  speculateSamples: number
  /** Samples received so far, for a partial's lag. */
  received: () => number
  emit: (event: PartialEvent | FinalEvent | SessionErrorEvent) => void
  /** Called whenever the loop stops working (to settle an ending session). */
  onIdle: () => void
  /** Called after each final (emitted or failed): the backlog shrank. */
  onFinalDone?: () => void
  /** Decodes finished utterances again in blocks, when the loop has no final waiting. */
  reviser?: Reviser | undefined
  /** Finals are decoded with their words, for the reviser to weigh (see `wordProbabilities`); they time the segments too. */
  finalWords?: boolean
  /** Finals keep their words (else the words the reviser weighs are left out of the event). */
  wordTimestamps?: boolean
}
