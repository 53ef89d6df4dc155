import { SampleBuffer } from '../audio/sample-buffer.js'
import type { WhisperBackend } from '../backend.js'
import { isWsError, toWsError } from '../errors.js'
import type { Logger } from '../logger.js'
import { degenerateText } from '../text/degenerate.js'
import { segmentTimes } from '../text/segment-times.js'
import {
  dropBareMarks,
  segmentsFromWords,
  shiftSegment,
  textOfWords,
  withoutWords,
  wordsOf,
} from '../text/words.js'
import { type Task, WHISPER_SAMPLE_RATE, type Word } from '../types.js'
import type { RevisionEvent, SessionErrorEvent } from './events.js'
import { acquireTurn, type InferenceGate, turnSignal } from './inference-gate.js'
import { mergeRevision } from './revision-merge.js'

const SR = WHISPER_SAMPLE_RATE
/**
 * Due blocks kept at most: a session whose revisions cannot keep up (a machine overloaded,
 * where partials and finals come first) drops the oldest block, whose finals then stand,
 * instead of holding ever more audio.
 */
const MAX_BACKLOG = 4

export interface ReviserOptions {
  backend: WhisperBackend
  gate?: InferenceGate | undefined
  logger: Logger
  signal: AbortSignal
  /** The longest block of utterances decoded together (at most Whisper's 30 s window). */
  maxBlockSamples: number
  /** Stream audio kept for the pauses between a block's utterances (at least maxBlockSamples). */
  keepSamples: number
  language?: string | undefined
  task?: Task | undefined
  /** Characters of the revised text before a block that prompt its decoding (0: none). */
  maxPromptChars: number
  /** The decoder's beam for a block (undefined: the backend's own). */
  beamSize?: number | undefined
  /** Revisions keep their words' times in their segments. */
  wordTimestamps?: boolean | undefined
  /** The backend gives word probabilities: revisions are decoded with words and merged with the finals'. */
  weighWords?: boolean | undefined
  emit: (event: RevisionEvent | SessionErrorEvent) => void
}

interface Piece {
  utteranceId: number
  audio: Float32Array
  /** Stream sample where the utterance's audio starts. */
  start: number
  /** The final's words (stream seconds), with the model's probabilities when the backend gives them. */
  words: Word[]
}

/** A block ready to decode: the stream's audio from its first utterance to its last. */
interface Block {
  utteranceIds: number[]
  audio: Float32Array
  /** Stream sample of `audio[0]`. */
  start: number
  /** The finals' words. */
  words: Word[]
}

/**
 * Decodes the session's finished utterances again, several at once: Whisper is much more
 * accurate on half a minute of speech than on one sentence (tiny.en on fifty Harvard
 * sentences in four voices: 18.7 % WER one at a time with the previous text as prompt,
 * 13.0 % in blocks of up to 28 s), so finals come fast and revisions correct them.
 *
 * Utterances gather into a block until the next would make it span more than
 * `maxBlockSamples` of the stream; the block is then due, and the stream's audio from its
 * first utterance to its last (the pauses as they were: the same audio an offline decode
 * sees) is decoded with the revised text before it as its prompt, when the inference loop
 * has no final waiting. The session's end makes the last block due. A revision replaces the
 * finals of the utterances it names.
 */
export class Reviser {
  readonly #o: ReviserOptions
  #block: Piece[] = []
  #due: Block[] = []
  #revised = ''
  /** The last `keepSamples` of the stream, from stream sample `#streamStart`. */
  readonly #stream = new SampleBuffer()
  #streamStart = 0

  #language: string | undefined

  constructor(options: ReviserOptions) {
    this.#o = options
    this.#language = options.language
  }

  /** A block waits for its decoding (never once the session closed). */
  /** Revisions from now on decode in `language` (a session asked for `auto` detected it). */
  setLanguage(language: string): void {
    this.#language = language
  }

  get due(): boolean {
    return this.#due.length > 0 && !this.#o.signal.aborted
  }

  /** Blocks waiting for their decoding. */
  get backlog(): number {
    return this.#due.length
  }

  /** Every sample the session received, in order: the pauses of a block come from here. */
  append(samples: Float32Array): void {
    this.#stream.append(samples)
    const over = this.#stream.length - this.#o.keepSamples
    if (over > 0) {
      this.#stream.dropFront(over)
      this.#streamStart += over
    }
  }

  /**
   * A final was emitted for this utterance (its audio, from stream sample `start`; its words, in
   * stream seconds): it joins the open block.
   */
  add(utteranceId: number, audio: Float32Array, start: number, words: Word[] = []): void {
    const first = this.#block[0]
    if (first && start + audio.length - first.start > this.#o.maxBlockSamples) this.#close()
    this.#block.push({ utteranceId, audio: audio.slice(), start, words })
  }

  /** The session closed: nothing is revised any more; blocks waiting and the open block are dropped. */
  stop(): void {
    this.#due = []
    this.#block = []
    this.#stream.clear()
  }

  /** The stream ended: the open block is due. */
  finish(): void {
    if (this.#block.length > 0) this.#close()
  }

  /**
   * Decodes the oldest due block and emits its revision. Aborting `stop` (a final of this
   * session is waiting), or the scheduler taking the turn back for another session's final,
   * puts the block back, first in line.
   */
  async run(stop?: AbortSignal): Promise<void> {
    const block = this.#due.shift()
    if (!block) return
    const waiting = stop ? AbortSignal.any([this.#o.signal, stop]) : this.#o.signal
    const again = () => {
      if (!this.#o.signal.aborted) this.#due.unshift(block)
    }
    let ticket: Awaited<ReturnType<typeof acquireTurn>>
    try {
      ticket = await acquireTurn(this.#o.gate, 'revision', waiting)
    } catch (err) {
      this.#o.logger.warn({ err }, 'revision could not get a turn; the finals stand')
      return
    }
    if (!ticket) return again()
    const signal = turnSignal(ticket, waiting, this.#o.backend.stopsRunningCalls)
    const started = performance.now()
    const { audio } = block
    const offset = block.start / SR
    const prompt = this.#revised.slice(-this.#o.maxPromptChars)
    try {
      const result = await this.#o.backend.transcribe(audio, SR, {
        ...(this.#language ? { language: this.#language } : {}),
        ...(this.#o.task ? { task: this.#o.task } : {}),
        ...(prompt ? { initialPrompt: prompt } : {}),
        ...(this.#o.beamSize ? { beamSize: this.#o.beamSize } : {}),
        ...(this.#o.weighWords || this.#o.wordTimestamps ? { wordTimestamps: true } : {}),
        background: true,
        signal,
      })
      // A looping decode revises nothing: the finals stand.
      if (degenerateText(result.text.trim(), audio.length / SR)) {
        this.#o.logger.warn({ utteranceIds: block.utteranceIds }, 'degenerate revision dropped')
        return
      }
      const { text, segments } = revised(
        block.words,
        dropBareMarks(result.segments).map((s) => shiftSegment(s, offset)),
      )
      // The text before the next block, kept only as far as it prompts.
      if (this.#o.maxPromptChars > 0)
        this.#revised = `${this.#revised} ${text}`.trim().slice(-4 * this.#o.maxPromptChars)
      this.#o.emit({
        type: 'revision',
        utteranceIds: block.utteranceIds,
        text,
        segments: withoutWords(segmentTimes(segments), this.#o.wordTimestamps),
        language: result.language,
        audioStart: offset,
        audioEnd: offset + audio.length / SR,
        processingTimeMs: Math.round(performance.now() - started),
      })
    } catch (err) {
      if (signal.aborted || isWsError(err, 'aborted')) return again()
      this.#o.logger.warn({ err }, 'revision failed; the finals stand')
      this.#o.emit({ type: 'error', error: toWsError(err, 'backend_failed', true) })
    } finally {
      if (ticket !== 'none') ticket.release()
    }
  }

  /** The open block, due: its utterances' audio, and the stream's between them where it is kept (silence where not). */
  #close(): void {
    const pieces = this.#block
    this.#block = []
    const start = pieces[0]!.start
    const last = pieces.at(-1)!
    const audio = new Float32Array(last.start + last.audio.length - start)
    const kept = this.#streamStart
    const keptEnd = kept + this.#stream.length
    let end = start
    for (const p of pieces) {
      // The pause before this utterance, as it was received.
      const from = Math.max(end, kept)
      const to = Math.min(p.start, keptEnd)
      if (to > from) audio.set(this.#stream.view(from - kept, to - kept), from - start)
      audio.set(p.audio, p.start - start)
      end = p.start + p.audio.length
    }
    const words = pieces.flatMap((p) => p.words)
    this.#due.push({ utteranceIds: pieces.map((p) => p.utteranceId), audio, start, words })
    if (this.#due.length > MAX_BACKLOG) {
      const dropped = this.#due.shift()!
      this.#o.logger.warn(
        { utteranceIds: dropped.utteranceIds },
        'revisions behind; the oldest block is not revised',
      )
    }
  }
}

const withProbability = (words: readonly Word[]) => words.every((w) => w.probability !== undefined)

/**
 * A revision's text and segments: merged with the finals' words ({@link mergeRevision}: where
 * they differ, the side the model was surer of) when the finals' words have probabilities and
 * the revision's too (or it has none); else the revision's own.
 */
function revised(
  finals: Word[],
  segments: RevisionEvent['segments'],
): Pick<RevisionEvent, 'text' | 'segments'> {
  const words = wordsOf(segments)
  // Merged, a revision that heard nothing (or only dots) leaves the finals as they were.
  if (finals.length === 0 || !withProbability(finals) || !withProbability(words))
    return {
      text: segments
        .map((s) => s.text.trim())
        .filter(Boolean)
        .join(' '),
      segments,
    }
  const merged = mergeRevision(finals, words)
  return { text: textOfWords(merged), segments: segmentsFromWords(merged) }
}
