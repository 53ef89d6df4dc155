import { WsError } from '../errors.js'
import { withDefaults } from '../options.js'
import type { VadBackend } from '../vad.js'

/** A stretch of the audio, in seconds. */
export interface TimeRange {
  start: number
  end: number
}

export interface SpeechRegionOptions {
  /** Pauses shorter than this join the speech around them (default 300 ms). */
  minSilenceMs?: number
  /** Speech shorter than this is dropped (default 200 ms). */
  minSpeechMs?: number
}

/** Defaults of {@link SpeechRegionOptions}. */
export const SPEECH_REGION_DEFAULTS = { minSilenceMs: 300, minSpeechMs: 200 } as const

/**
 * Where a 16 kHz recording has speech, from a VAD's frame decisions: frames of speech make
 * regions, short pauses are bridged and short blips dropped. Unlike {@link detectSpeech} no
 * padding or hangover is added: the regions are where the VAD heard speech (diarization's
 * windows, and the words fitted to them by {@link fitWordsToSpeech}).
 */
export async function speechRegions(
  audio: Float32Array,
  vad: VadBackend,
  options: SpeechRegionOptions = {},
): Promise<TimeRange[]> {
  const o = withDefaults(SPEECH_REGION_DEFAULTS, options)
  if (vad.sampleRate !== 16_000)
    throw new WsError('invalid_config', `The VAD runs at ${vad.sampleRate} Hz; speech regions need 16000 Hz`)
  const frame = vad.frameSamples
  const seconds = frame / 16_000
  const regions: TimeRange[] = []
  let open: TimeRange | undefined
  vad.reset()
  for (let at = 0; at + frame <= audio.length; at += frame) {
    // The VAD is synchronous: let the event loop turn every 10 s of audio.
    if (at > 0 && at % (frame * 1000) === 0) await new Promise((r) => setImmediate(r))
    const speech = await vad.isSpeech(audio.subarray(at, at + frame))
    const t = at / 16_000
    if (speech) {
      if (open && t - open.end < o.minSilenceMs / 1000) open.end = t + seconds
      else {
        if (open) regions.push(open)
        open = { start: t, end: t + seconds }
      }
    }
  }
  if (open) regions.push(open)
  return regions.filter((r) => r.end - r.start >= o.minSpeechMs / 1000)
}
