import { optionChecker } from '../options.js'
import { degenerateText } from './degenerate.js'
import { normalizedWords } from './normalize.js'
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
  /** Probability of no speech above which a segment is dropped whatever its log-probability (0–1; default: none). */
  sureNoSpeechThreshold?: number
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
  const sure = rule.sureNoSpeechThreshold
  check.that(
    sure === undefined || (Number.isFinite(sure) && sure >= 0 && sure <= 1),
    `${name}.sureNoSpeechThreshold must be 0 to 1, got ${sure}`,
  )
}

/**
 * The least no-speech threshold at an encoder window shorter than Whisper's 30 s (previews,
 * fitted finals): there the model rates speech as no speech more readily (80 real English
 * clips up to 0.36 on whisper.cpp tiny.en, where the full window gave at most 0.08), so
 * Whisper's own 0.6 at least.
 */
export const REDUCED_WINDOW_NO_SPEECH_THRESHOLD = 0.6

/**
 * A preview (a partial: replaced within a second by the next or the final) is held to the
 * backend's own thresholds on any window, and a segment rated over this as no speech is
 * dropped whatever its log-probability. Prompted with the words before, previews over noise
 * after real speech said "I'm not a fan of the" (no speech 0.44–0.59, log-probability -2.2 on
 * faster-whisper; 0.44 on whisper.cpp, which the 0.6 of a reduced window kept) and, surely,
 * "Beep Beep Beep…" and "M E E E…" (0.90–0.94, -0.4). A preview of real speech dropped this way
 * costs a partial, not a word: the final decodes the audio again.
 */
export const PREVIEW_SURE_NO_SPEECH_THRESHOLD = 0.8

/**
 * `rule` as it applies to a decode on a reduced encoder window (`reduced`) or the full one,
 * for a final or for a `preview` (see {@link PREVIEW_SURE_NO_SPEECH_THRESHOLD}).
 */
export function noSpeechRuleAt(
  rule: NoSpeechRule | false,
  reduced: boolean,
  preview = false,
): NoSpeechRule | false {
  if (!rule) return rule
  if (preview)
    return {
      ...rule,
      sureNoSpeechThreshold: Math.min(rule.sureNoSpeechThreshold ?? 1, PREVIEW_SURE_NO_SPEECH_THRESHOLD),
    }
  if (!reduced) return rule
  return { ...rule, noSpeechThreshold: Math.max(rule.noSpeechThreshold, REDUCED_WINDOW_NO_SPEECH_THRESHOLD) }
}

/**
 * Text the model only guessed at: an average log-probability under this, in a window it rates
 * over {@link GUESS_NO_SPEECH} as no speech, is dropped on any window. `base` over music, noise
 * and hum, at a reduced window where the no-speech threshold is 0.6, wrote "Music", "The", "Hi."
 * and "you" at no speech 0.2–0.58 and log-probability -2.1 to -3.9. No final segment of real
 * speech came near: the lowest were -0.65 (tiny.en) and -1.85 (`base`, English, Spanish and
 * Dutch, live and whole clips); only previews of a first syllable ("Inter", "to") go lower.
 */
export const GUESS_LOGPROB = -2
/** See {@link GUESS_LOGPROB}: a window rated lower is heard as speech, however unsure its words. */
export const GUESS_NO_SPEECH = 0.15

/**
 * A letter held this many times in a row (hyphens and marks left out) is a sound drawn out, not
 * a word: "AHHHHH!", "Aaaaa", "Mm-mmm-mmm", "T-T-T-T-", "S-S-S-S-S-" are what Whisper writes
 * over breathing, a crowd or a hiss, and no word of the languages measured holds a letter four
 * times running (German's longest run is three: "Schifffahrt"). "Mmm", "Hmm" and "Shh" stay.
 */
export const DRAWN_OUT_LETTERS = 4

const DRAWN_OUT = new RegExp(`(\\p{L})\\1{${DRAWN_OUT_LETTERS - 1}}`, 'u')

/** Whether `word` is a sound drawn out (see {@link DRAWN_OUT_LETTERS}), not a word. */
export function isDrawnOutSound(word: string): boolean {
  if (/\p{N}/u.test(word)) return false
  return DRAWN_OUT.test(word.toLowerCase().replace(/[^\p{L}]/gu, ''))
}

/**
 * Sounds a person makes that are not words of a language: what Whisper writes over a hiss, a
 * breath or a click ("Pfft!", "Hmm.", "Shh."). Said by a person they carry no words to lose, and
 * over speech the model rates a window at most 0.1 as no speech; so a segment of nothing else,
 * in a window the model rates over its no-speech threshold, is dropped whatever its
 * log-probability (tiny.en wrote "Pfft!" surely over noise after real speech: no speech 0.54,
 * log-probability -0.45). "you" and "Oh, hello." are words and stay ("Thank you." has a rule
 * of its own: {@link SIGN_OFFS}).
 */
export const VOCAL_SOUNDS: ReadonlySet<string> = new Set([
  'ah',
  'aah',
  'eh',
  'er',
  'erm',
  'ehm',
  'hm',
  'hmm',
  'huh',
  'mm',
  'mmm',
  'uh',
  'uhm',
  'um',
  'umm',
  'ooh',
  'pff',
  'pfft',
  'phew',
  'psst',
  'sh',
  'shh',
  'tsk',
  'ugh',
  'whew',
])

/** Whether `word` is one of the {@link VOCAL_SOUNDS} (case, marks and hyphens aside). */
export function isVocalSound(word: string): boolean {
  return VOCAL_SOUNDS.has(word.toLowerCase().replace(/[^\p{L}]/gu, ''))
}

/**
 * How the subtitles Whisper learnt from end: thanks, a video's sign-off, a request to subscribe,
 * the subtitler's credit. Over silence and noise the model writes these surely, its training
 * having paired them with the quiet at a video's end: `base` over noise after real speech wrote
 * "Thank you." at no speech 0.91 and log-probability -0.96, "Thanks for watching!" at 0.30 and
 * -1.19 (under Whisper's 0.4, or over -1), and a revision turned it into "If you enjoyed this
 * video, please subscribe to the channel…". People say them too, so they are dropped only where
 * the model was also unsure ({@link isNonSpeech}); matched on the whole segment's normalised
 * words, except the request and the credit, which match anywhere in it.
 */
export const SIGN_OFFS: readonly RegExp[] = [
  /^(thank you|thanks)( (so|very) much)?( (all|everyone|everybody|guys))?( for (watching|listening|viewing))?$/,
  /^(i'll )?see you( (all|guys))? (next time|soon|in the next (video|one))$/,
  /\bsubscribe\b/,
  /\b(subtitles|subtitled|captions|captioned|transcribed|translated) by\b|\bamara\b/,
]

/** Whether `text` is one of the {@link SIGN_OFFS} (case and punctuation aside). */
export function isSignOff(text: string): boolean {
  const words = normalizedWords(text).join(' ')
  return words !== '' && SIGN_OFFS.some((re) => re.test(words))
}

/** Whether `text` holds a spoken word: a letter or digit (not only "♪♪", "."), and not only drawn-out sounds. */
export function hasSpokenWord(text: string): boolean {
  return text.split(/\s+/).some((w) => hasWord(w) && !isDrawnOutSound(w))
}

const onlyVocalSounds = (text: string) =>
  text.split(/\s+/).every((w) => !hasWord(w) || isDrawnOutSound(w) || isVocalSound(w))

/**
 * A sign-off ({@link SIGN_OFFS}) is dropped where the model rates its window over the no-speech
 * threshold whatever its log-probability, or over {@link GUESS_NO_SPEECH} with a log-probability
 * under the rule's. Real ones (four recordings of "Thank you…" and "Goodbye.", tiny.en and
 * `base`, full and fitted windows, prompted or not) rated at most 0.12 with log-probabilities of
 * -0.53 and above; made-up ones 0.30–0.91.
 */
const unsureSignOff = (noSpeechProb: number, avgLogprob: number, rule: NoSpeechRule) =>
  noSpeechProb > rule.noSpeechThreshold ||
  (noSpeechProb > GUESS_NO_SPEECH && avgLogprob < rule.logprobThreshold)

/**
 * Whether a segment is to be dropped as not speech: it says no word at all ("♪♪", "."), only
 * sounds drawn out ("AHHHHH!"), only {@link VOCAL_SOUNDS} in a window rated over the
 * no-speech threshold, a sign-off the model was unsure of ({@link SIGN_OFFS}), only guesses
 * ({@link GUESS_LOGPROB}), or the rule holds for it.
 * `rule: false` (the guard off) keeps every segment.
 */
export function isNonSpeech(segment: NoSpeechScores, rule: NoSpeechRule | false): boolean {
  if (rule === false) return false
  if (!hasSpokenWord(segment.text)) return true
  if (segment.noSpeechProb === undefined || segment.avgLogprob === undefined) return false
  if (rule.sureNoSpeechThreshold !== undefined && segment.noSpeechProb > rule.sureNoSpeechThreshold)
    return true
  if (segment.noSpeechProb > rule.noSpeechThreshold && onlyVocalSounds(segment.text)) return true
  if (unsureSignOff(segment.noSpeechProb, segment.avgLogprob, rule) && isSignOff(segment.text)) return true
  if (segment.noSpeechProb > GUESS_NO_SPEECH && segment.avgLogprob < GUESS_LOGPROB) return true
  return segment.noSpeechProb > rule.noSpeechThreshold && segment.avgLogprob < rule.logprobThreshold
}

/** A segment of at least this many words that the prompt holds word for word may be an echo ({@link withoutNonSpeech}). */
export const ECHO_MIN_WORDS = 3

/** Whether `text`'s normalised words (at least {@link ECHO_MIN_WORDS}) run word for word in `prompt`'s. */
export function echoesPrompt(text: string, prompt: string): boolean {
  const words = normalizedWords(text)
  if (words.length < ECHO_MIN_WORDS) return false
  return ` ${normalizedWords(prompt).join(' ')} `.includes(` ${words.join(' ')} `)
}

/**
 * The segments {@link isNonSpeech} keeps, in order; and none of those rated over the no-speech
 * threshold when their text together is a loop (`degenerateText`'s repetition: a phrase again
 * and again). Whisper's own transcribe decodes a loop again at a higher temperature; a live
 * final does not, for time, and over 24 s of noise faster-whisper wrote "I'm gonna go to the
 * next one." fourteen times, surely (no speech 0.79, log-probability -0.33), one segment each.
 * Real speech rates at most 0.10 as no speech on the full window.
 *
 * With the `prompt` the decode was given, an echo goes too: a segment the prompt holds word for
 * word ({@link echoesPrompt}) in a window rated over {@link GUESS_NO_SPEECH}. Prompted with the
 * finals before, `base` over noise after real speech wrote "The pound key is the pound key."
 * from one utterance of noise to the next, 9 times in 3.6 min (no speech 0.07–0.48,
 * log-probability -0.4 to -0.6); real prompts said again rated at most 0.025.
 */
export function withoutNonSpeech<S extends NoSpeechScores>(
  segments: S[],
  rule: NoSpeechRule | false,
  prompt = '',
): S[] {
  if (rule === false) return segments
  const rated = new Set(segments.filter((s) => (s.noSpeechProb ?? 0) > rule.noSpeechThreshold))
  const loops =
    rated.size > 0 &&
    degenerateText([...rated].map((s) => s.text).join(' '), Number.POSITIVE_INFINITY) === 'repetition'
  const echo = (s: S) =>
    prompt !== '' && (s.noSpeechProb ?? 0) > GUESS_NO_SPEECH && echoesPrompt(s.text, prompt)
  return segments.filter((s) => !isNonSpeech(s, rule) && !(loops && rated.has(s)) && !echo(s))
}
