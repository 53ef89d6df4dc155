import type { VadBackend } from '../vad.js'
import { VadSegmenter, type VadSegmenterOptions } from './segmenter.js'

export interface SpeechRegion {
  /** Seconds from the start of the audio, padding included. */
  start: number
  end: number
}

/**
 * Runs a VAD over a whole signal (at the VAD's rate) through the {@link VadSegmenter} and
 * returns the speech regions and the per-frame decisions. The last partial frame is ignored.
 */
export async function detectSpeech(
  vad: VadBackend,
  audio: Float32Array,
  options: VadSegmenterOptions = {},
): Promise<{ regions: SpeechRegion[]; decisions: boolean[] }> {
  const segmenter = new VadSegmenter(vad.frameSamples, vad.sampleRate, options)
  const regions: SpeechRegion[] = []
  const decisions: boolean[] = []
  let open: number | undefined
  const onEvents = (events: ReturnType<VadSegmenter['push']>) => {
    for (const e of events) {
      if (e.type === 'speech_start') open = e.sample
      else if (open !== undefined) {
        regions.push({ start: open / vad.sampleRate, end: e.sample / vad.sampleRate })
        open = undefined
      }
    }
  }
  const n = vad.frameSamples
  for (let offset = 0; offset + n <= audio.length; offset += n) {
    const speech = await vad.isSpeech(audio.subarray(offset, offset + n))
    decisions.push(speech)
    onEvents(segmenter.push(speech))
  }
  onEvents(segmenter.flush(segmenter.position))
  return { regions, decisions }
}
