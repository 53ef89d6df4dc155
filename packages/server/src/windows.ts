import {
  fitWordsToSpeech,
  type InferenceGate,
  type Segment,
  shiftSegment,
  type Task,
  type TimeRange,
  type TranscriptResult,
  WHISPER_SAMPLE_RATE,
  type WhisperBackend,
} from '@ws/core'

const SR = WHISPER_SAMPLE_RATE

export interface WindowOptions {
  backend: WhisperBackend
  /** Each window waits for its own turn here (a bulk gate: live sessions go first). */
  gate: InferenceGate
  signal: AbortSignal
  language?: string | undefined
  prompt?: string | undefined
  /** `translate`: English text from speech in any language (a multilingual model). */
  task?: Task
  wordTimestamps?: boolean
  /** The longest window, in seconds (default 30: Whisper's own). */
  windowSeconds?: number
  /** A window is cut at the quietest point of its last this-many seconds (default 8). */
  searchSeconds?: number
  /** Characters of the text so far that prompt the next window (default 224, as Whisper conditions on previous text). */
  promptChars?: number
  /**
   * Where a window has speech, in its own seconds (a VAD's regions): each window's words are
   * fitted to it ({@link fitWordsToSpeech}) before their segments are timed.
   */
  speech?: (audio: Float32Array) => Promise<readonly TimeRange[]>
  /** Seconds of audio transcribed so far, after each window. */
  onProgress?: (seconds: number) => void
}

/** Frames of this many samples are compared to find a pause. */
const FRAME = Math.round(0.05 * SR)

/**
 * Transcribes a long stream of 16 kHz chunks window by window, each cut at a pause (the
 * quietest 50 ms in the window's last `searchSeconds`), each its own request at the
 * scheduler's `gate` — so between two windows of a long file the live sessions' finals run
 * (a whole file in one call held the backend for minutes). Each window is prompted with the
 * text before it, as Whisper's own long-form decoding conditions on the previous text, and
 * keeps the language the first window found. Memory holds one window and the chunks after it.
 */
export async function transcribeInWindows(
  chunks: AsyncIterable<Float32Array>,
  options: WindowOptions,
): Promise<TranscriptResult> {
  const windowSamples = Math.round((options.windowSeconds ?? 30) * SR)
  const searchSamples = Math.min(windowSamples, Math.round((options.searchSeconds ?? 8) * SR))
  const segments: Segment[] = []
  const texts: string[] = []
  let language = options.language
  let buffer = new Float32Array(windowSamples * 2)
  let length = 0
  let offset = 0 // stream sample of buffer[0]
  let processingTimeMs = 0

  const run = async (audio: Float32Array) => {
    const before = texts.join(' ').trim()
    const prompt = before ? before.slice(-(options.promptChars ?? 224)) : options.prompt
    const ticket = await options.gate.acquire('final', options.signal)
    let result: TranscriptResult
    try {
      result = await options.backend.transcribe(audio, SR, {
        ...(language ? { language } : {}),
        ...(prompt ? { initialPrompt: prompt } : {}),
        ...(options.task ? { task: options.task } : {}),
        wordTimestamps: options.wordTimestamps ?? false,
        signal: options.signal,
      })
    } finally {
      ticket.release()
    }
    language ??= result.language
    processingTimeMs += result.processingTimeMs ?? 0
    const start = offset / SR
    const fitted = options.speech
      ? fitWordsToSpeech(result.segments, await options.speech(audio))
      : result.segments
    for (const s of fitted) segments.push(shiftSegment(s, start))
    if (result.text.trim()) texts.push(result.text.trim())
    offset += audio.length
    options.onProgress?.(offset / SR)
  }

  for await (const chunk of chunks) {
    if (length + chunk.length > buffer.length) {
      const bigger = new Float32Array(Math.max(buffer.length * 2, length + chunk.length))
      bigger.set(buffer.subarray(0, length))
      buffer = bigger
    }
    buffer.set(chunk, length)
    length += chunk.length
    while (length > windowSamples) {
      const cut = quietestCut(buffer, windowSamples - searchSamples, windowSamples)
      await run(buffer.slice(0, cut))
      buffer.copyWithin(0, cut, length)
      length -= cut
    }
  }
  if (length > 0) await run(buffer.slice(0, length))
  return {
    text: texts.join(' '),
    segments,
    language: language ?? 'en',
    processingTimeMs,
  }
}

/** The end of the quietest frame between samples `from` and `to` (a pause to cut at). */
export function quietestCut(audio: Float32Array, from: number, to: number): number {
  let best = to
  let bestEnergy = Infinity
  for (let start = Math.max(0, from); start + FRAME <= to; start += FRAME) {
    let energy = 0
    for (let i = start; i < start + FRAME; i++) energy += audio[i]! * audio[i]!
    // Later frames win ties: windows as long as they can be.
    if (energy <= bestEnergy) {
      bestEnergy = energy
      best = start + Math.round(FRAME / 2)
    }
  }
  return best
}
