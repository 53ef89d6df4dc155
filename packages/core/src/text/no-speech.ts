import { optionChecker } from '../options.js'
import { hasWord } from './words.js'

/**
 * Whisper's no-speech rule, as its own `transcribe` and faster-whisper apply it: a segment
 * whose window the model rates as holding no speech (`noSpeechProb` over
 * `noSpeechThreshold`) while its own text is unsure (average log-probability under
 * `logprobThreshold`) is text the model made up — "you", "Thank you.", "I'm going to go to
 * the next one." over silence, noise or hum — and is dropped. Both must hold: speech that
 * fills little of the window can rate high as no speech, and is then sure of its words.
 */
export interface NoSpeechRule {
  /** Probability of no speech above which a segment may be dropped, 0–1. */
  noSpeechThreshold: number
  /** Average log-probability of the segment's text tokens under which it is dropped (≤ 0). */
  logprobThreshold: number
}

/** Whisper's and faster-whisper's own thresholds. */
export const WHISPER_NO_SPEECH_RULE: Readonly<NoSpeechRule> = Object.freeze({
  noSpeechThreshold: 0.6,
  logprobThreshold: -1,
})

/** What the rule reads of a segment; an engine that gives neither number keeps it. */
export interface NoSpeechScores {
  text: string
  noSpeechProb?: number
  avgLogprob?: number
}

/** Throws `invalid_config` for thresholds out of range; `owner` and `name` name the option. */
export function validateNoSpeechRule(rule: NoSpeechRule | false, owner: string, name = 'noSpeech'): void {
  if (rule === false) return
  const check = optionChecker(owner)
  check.that(
    rule !== null && typeof rule === 'object',
    `${name} must be false or { noSpeechThreshold, logprobThreshold }`,
  )
  check.that(
    Number.isFinite(rule.noSpeechThreshold) && rule.noSpeechThreshold >= 0 && rule.noSpeechThreshold <= 1,
    `${name}.noSpeechThreshold must be 0 to 1, got ${rule.noSpeechThreshold}`,
  )
  check.that(
    Number.isFinite(rule.logprobThreshold) && rule.logprobThreshold <= 0,
    `${name}.logprobThreshold must be a number ≤ 0, got ${rule.logprobThreshold}`,
  )
}

/**
 * The least no-speech threshold at an encoder window shorter than Whisper's 30 s (previews,
 * fitted finals): there the model rates speech as no speech more readily (80 real English
 * clips up to 0.36 on whisper.cpp tiny.en, where the full window gave at most 0.08), so
 * Whisper's own 0.6 at least.
 */
export const REDUCED_WINDOW_NO_SPEECH_THRESHOLD = 0.6

/** `rule` as it applies to a decode on a reduced encoder window (`reduced`) or the full one. */
export function noSpeechRuleAt(rule: NoSpeechRule | false, reduced: boolean): NoSpeechRule | false {
  if (!rule || !reduced) return rule
  return { ...rule, noSpeechThreshold: Math.max(rule.noSpeechThreshold, REDUCED_WINDOW_NO_SPEECH_THRESHOLD) }
}

/**
 * Whether a segment is to be dropped as not speech: it says no word at all ("♪♪", "."),
 * or the rule holds for it. `rule: false` (the guard off) keeps every segment.
 */
export function isNonSpeech(segment: NoSpeechScores, rule: NoSpeechRule | false): boolean {
  if (rule === false) return false
  if (!hasWord(segment.text)) return true
  if (segment.noSpeechProb === undefined || segment.avgLogprob === undefined) return false
  return segment.noSpeechProb > rule.noSpeechThreshold && segment.avgLogprob < rule.logprobThreshold
}

/** The segments {@link isNonSpeech} keeps, in order. */
export function withoutNonSpeech<S extends NoSpeechScores>(segments: S[], rule: NoSpeechRule | false): S[] {
  return segments.filter((s) => !isNonSpeech(s, rule))
}
