/** A word with its time in the audio, in seconds. */
export interface Word {
  start: number
  end: number
  /** The word as the model wrote it, with its punctuation, without surrounding spaces. */
  text: string
  /** The model's probability for the word, when the backend reports it (0..1). */
  probability?: number
  /** Who said it, when the transcript was diarized (`A`, `B`, … or a known speaker's name). */
  speaker?: string
}

/** A segment of transcript with its time in the audio, in seconds. */
export interface Segment {
  start: number
  end: number
  text: string
  words?: Word[]
  /** Who said it, when the transcript was diarized (`A`, `B`, … or a known speaker's name). */
  speaker?: string
}

/** What a backend returns for one piece of audio. */
export interface TranscriptResult {
  text: string
  segments: Segment[]
  /** ISO 639-1 code of the spoken (or forced) language, e.g. "en". */
  language: string
  /** Wall-clock time the backend spent, in milliseconds. */
  processingTimeMs: number
}

export type Task = 'transcribe' | 'translate'

/** Whisper models take 16 kHz mono audio. */
export const WHISPER_SAMPLE_RATE = 16_000

/** Whisper's encoder window, in seconds. */
export const WHISPER_WINDOW_SECONDS = 30
