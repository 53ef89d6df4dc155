import { concatFloat32 } from '../audio/pcm.js'
import { normalizeWord } from '../text/normalize.js'
import { tailText, textOfWords, wordsOf } from '../text/words.js'
import type { Segment, Word } from '../types.js'

/**
 * Removes the transcript of carried audio from a decode of `[carried audio, new audio]`, and
 * shifts times back to the new audio (never below 0).
 *
 * The carried audio is whole earlier utterances, whose finals (`carriedText`) say what it
 * holds. The decode hears them again, mostly alike, and then the new words: the words cut off
 * are a leading run whose normalised words are the closest (by edit distance) to
 * `carriedText`'s ({@link carriedWordCount}). A word heard differently in the carried audio
 * costs one edit, not a new word kept; word times only break ties (they are coarse at a pause,
 * and a decode may stretch a word over one). A segment that straddles the cut keeps exactly the
 * words after it.
 *
 * `heard` is how many of the decode's words were cut off: none, when the carried audio held
 * words, means the decode skipped it (and may have skipped the start of the new audio with it).
 */
export function cutCarried(
  segments: readonly Segment[],
  carriedSeconds: number,
  carriedText: string,
): { segments: Segment[]; heard: number } {
  const perSegment = segments.map((seg) => wordsOf([seg]))
  const all = perSegment.flat()
  const heard = carriedText.trim() ? carriedWordCount(all, carriedText, carriedSeconds) : 0
  const cutOff = new Set(all.slice(0, heard))
  const shift = (t: number) => Math.max(0, t - carriedSeconds)
  const shiftWord = (w: Word): Word => ({ ...w, start: shift(w.start), end: shift(w.end) })
  const out: Segment[] = []
  segments.forEach((seg, i) => {
    const words = perSegment[i]!
    const kept = words.filter((w) => !cutOff.has(w))
    if (kept.length === 0) return
    if (kept.length === words.length) {
      const shifted: Segment = { ...seg, start: shift(seg.start), end: shift(seg.end) }
      if (seg.words) shifted.words = seg.words.map(shiftWord)
      out.push(shifted)
      return
    }
    const moved = kept.map(shiftWord)
    const trimmed: Segment = {
      start: moved[0]!.start,
      end: Math.max(moved[moved.length - 1]!.end, shift(seg.end)),
      text: textOfWords(moved),
    }
    if (seg.words && seg.words.length > 0) trimmed.words = moved
    out.push(trimmed)
  })
  return { segments: out, heard }
}

/**
 * How many leading words of `words` are the hearing of `carriedText`: a count whose words'
 * normalised forms are at the least edit distance from the text's. Of counts at that distance
 * (a word heard as two, "unmute" as "on mute"; or a carried word not heard, beside a new one),
 * the one whose cut lies nearest `carriedSeconds` by the words' times, then the fewest.
 * Punctuation-only words cost nothing either way.
 */
export function carriedWordCount(
  words: readonly (Pick<Word, 'text'> & Partial<Pick<Word, 'start' | 'end'>>)[],
  carriedText: string,
  carriedSeconds?: number,
): number {
  const target = carriedText.split(/\s+/).map(normalizeWord).filter(Boolean)
  // row[i]: edit distance between target[0..i) and the words so far (a column of the table).
  let row = Array.from({ length: target.length + 1 }, (_, i) => i)
  const costs = [target.length]
  for (const word of words) {
    const w = normalizeWord(word.text)
    if (w) {
      const next = [row[0]! + 1]
      for (let i = 1; i <= target.length; i++) {
        next[i] = Math.min(next[i - 1]! + 1, row[i]! + 1, row[i - 1]! + (target[i - 1] === w ? 0 : 1))
      }
      row = next
    }
    costs.push(row[target.length]!)
  }
  const least = Math.min(...costs)
  const at = (k: number): number | undefined => {
    const before = words[k - 1]?.end
    const after = words[k]?.start
    if (before === undefined) return after
    return after === undefined ? before : (before + after) / 2
  }
  let best = -1
  costs.forEach((cost, k) => {
    if (cost !== least) return
    if (best < 0) best = k
    else if (carriedSeconds !== undefined) {
      const d = Math.abs((at(k) ?? Number.POSITIVE_INFINITY) - carriedSeconds)
      if (d < Math.abs((at(best) ?? Number.POSITIVE_INFINITY) - carriedSeconds)) best = k
    }
  })
  return best
}

/**
 * The input of a decode that hears `carried` (the last utterances' audio and text) before
 * `audio`, and the cut that takes their words off its result again ({@link cutCarried}).
 */
export function withCarried(
  carried: { audio: readonly Float32Array[]; text: string },
  audio: Float32Array,
  sampleRate: number,
): { input: Float32Array; cut(segments: readonly Segment[]): { segments: Segment[]; heard: number } } {
  const input = carried.audio.length > 0 ? concatFloat32([...carried.audio, audio]) : audio
  const seconds = (input.length - audio.length) / sampleRate
  return { input, cut: (segments) => cutCarried(segments, seconds, carried.text) }
}

/** An earlier utterance a final may hear again: its audio (16 kHz) and its final's text. */
interface Heard {
  audio: Float32Array
  text: string
}

/**
 * The last utterances with text a strategy carries: at most `contextSamples` of their audio
 * together, and the text of the finals before them (its last `maxPromptChars`).
 */
export class CarriedUtterances {
  readonly #contextSamples: number
  readonly #maxPromptChars: number
  /** The finals' text before {@link #heard}'s, its tail. */
  #before = ''
  /** Newest last. */
  #heard: Heard[] = []
  /** The last final with text. */
  #last = ''

  constructor(contextSamples: number, maxPromptChars: number) {
    this.#contextSamples = contextSamples
    this.#maxPromptChars = maxPromptChars
  }

  /** How many of the last utterances fit, whole, in `room` samples (and in `contextSamples`). */
  fitting(room: number): number {
    const limit = Math.min(room, this.#contextSamples)
    let used = 0
    let count = 0
    for (let i = this.#heard.length - 1; i >= 0; i--) {
      used += this.#heard[i]!.audio.length
      if (used > limit) break
      count++
    }
    return count
  }

  /** The last `count` utterances' audio, in order, and their finals' text. */
  last(count: number): { audio: Float32Array[]; text: string } {
    const taken = count > 0 ? this.#heard.slice(-count) : []
    return { audio: taken.map((h) => h.audio), text: taken.map((h) => h.text).join(' ') }
  }

  /** The finals' text before the last `count` utterances, its last `maxPromptChars`. */
  textBefore(count = 0): string {
    const kept = this.#heard.slice(0, this.#heard.length - count).map((h) => h.text)
    return tailText([this.#before, ...kept].join(' '), this.#maxPromptChars)
  }

  /** The last final with text, its last `maxPromptChars`. */
  lastText(): string {
    return tailText(this.#last, this.#maxPromptChars)
  }

  /** An utterance's final: kept when it has text (a copy of its audio, while it fits). */
  remember(audio: Float32Array, text: string): void {
    if (!text) return
    this.#last = text
    this.#heard.push({ audio: audio.slice(), text })
    let total = this.#heard.reduce((n, h) => n + h.audio.length, 0)
    while (this.#heard.length > 0 && total > this.#contextSamples) {
      const old = this.#heard.shift()!
      total -= old.audio.length
      this.#before = tailText(`${this.#before} ${old.text}`, this.#maxPromptChars)
    }
  }

  reset(): void {
    this.#before = ''
    this.#heard = []
    this.#last = ''
  }
}
