import { echoesPrompt, type FinalWindow, fittedFinal, hasWord } from '@ws/core'

/** Encoder positions a second of audio takes (Whisper: 50). */
export const POSITIONS_PER_SECOND = 50
/** Whisper's full window: 30 s. */
export const MAX_AUDIO_CTX = 1500
/**
 * Encoder positions past the audio (2.56 s). Sixty sentences, beam 5: 25.5 % WER at 32, 18.5 %
 * at 64, 18.0 % at 128 (faster-whisper: 17.2 %).
 */
export const AUTO_CTX_MARGIN = 128
/** The margin of a preview (a partial, replaced later): half the encoder work on a 1 s buffer for 0.5 point of WER. */
export const PREVIEW_CTX_MARGIN = 64
/** Encoder positions added when a final at a reduced window looped (5.12 s more silence). */
export const RETRY_CTX_MARGIN = 256

/** An encoder window shorter than Whisper's 30 s (0 is the full window). */
export function isReduced(audioCtx: number): boolean {
  return audioCtx !== 0 && audioCtx < MAX_AUDIO_CTX
}

/** What decides a call's encoder window (see `WhisperCppOptions`). */
export interface WindowChoice {
  audioCtx: 'auto' | 'full' | number
  finalWindow: FinalWindow
  minFinalWindowMs: number
  /** Samples of (padded) audio at 16 kHz. */
  samples: number
  preview?: boolean
  live?: boolean
  busy?: boolean
}

/**
 * The encoder window of a call, in positions (0: the full window), and whether it is a
 * final's shortened window (`half`; see {@link unsureFinal}).
 * - a preview: fitted to the audio (plus 1.3 s);
 * - a live final under `finalWindow: 'fitted'`, or `'auto'` when `busy`: fitted (plus 2.6 s);
 * - a live final under `'auto'` the engine is free for: at least `minFinalWindowMs`;
 * - anything else (a file, a REST call, `'full'`): Whisper's 30 s.
 */
export function encoderWindow(c: WindowChoice): { audioCtx: number; half: boolean } {
  const fitted = (margin: number) =>
    Math.min(MAX_AUDIO_CTX, Math.ceil((c.samples / 16_000) * POSITIONS_PER_SECOND) + margin)
  if (c.audioCtx === 'full') return { audioCtx: 0, half: false }
  if (typeof c.audioCtx === 'number') return { audioCtx: c.audioCtx, half: false }
  if (c.preview) return { audioCtx: fitted(PREVIEW_CTX_MARGIN), half: false }
  if (!c.live) return { audioCtx: 0, half: false }
  if (fittedFinal(c.finalWindow, c.busy)) return { audioCtx: fitted(AUTO_CTX_MARGIN), half: false }
  if (c.finalWindow === 'full') return { audioCtx: 0, half: false }
  const floor = Math.round((c.minFinalWindowMs / 1000) * POSITIONS_PER_SECOND)
  const audioCtx = Math.max(floor, fitted(AUTO_CTX_MARGIN))
  return isReduced(audioCtx) ? { audioCtx, half: true } : { audioCtx: 0, half: false }
}

/**
 * A live final the model was unsure of is decoded again on the full window without the prompt:
 * - a segment with a word that it rates over 0.3 as no speech. Prompted with a session's
 *   previous words, Whisper says whole sentences over noise with confidence ("www.… for more
 *   information on the website.": no speech 0.65–0.85 at log-probability -0.5, which its own
 *   rule keeps); unprompted on the full window the same audio gives text the rule drops. Real
 *   speech rated at most 0.08 clean, 0.10 under 10 dB of noise (80 real English clips, full
 *   window), 0.29 and 0.31 at a 15 s window;
 * - on the shortened window (`half`), also a segment whose tokens average under -1
 *   log-probability ("AHHHH!", "the" over noise). No clean clip of the 80 was sent again at a
 *   15 s window, 2 under 10 dB of pink noise;
 * - a segment that says its prompt's words again (`echoesPrompt`) rated over 0.05 as no
 *   speech. `base` over noise after real speech said "The pound key is the pound key." from one
 *   utterance to the next, each prompted with the one before, at 0.07–0.48 (so the guard's own
 *   echo rule, over 0.15, missed some). Real prompts said again (7 of the 80 English clips,
 *   tiny.en and `base`, full and fitted windows) rated at most 0.025.
 */
export const UNSURE_FINAL = Object.freeze({ noSpeechProb: 0.3, avgLogprob: -1, echoNoSpeechProb: 0.05 })

/** Whether a live final is decoded again on the full window without its prompt (see {@link UNSURE_FINAL}). */
export function unsureFinal(
  segments: readonly { text: string; noSpeechProb?: number; avgLogprob?: number }[],
  half: boolean,
  prompt = '',
): boolean {
  return segments.some(
    (s) =>
      hasWord(s.text) &&
      ((s.noSpeechProb ?? 0) > UNSURE_FINAL.noSpeechProb ||
        (half && (s.avgLogprob ?? 0) < UNSURE_FINAL.avgLogprob) ||
        ((s.noSpeechProb ?? 0) > UNSURE_FINAL.echoNoSpeechProb &&
          prompt !== '' &&
          echoesPrompt(s.text, prompt))),
  )
}
