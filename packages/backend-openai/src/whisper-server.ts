import type { TranscribeOptions } from '@ws/core'
import { FormData } from 'undici'

/** The parts of `verbose_json` that the backend reads. */
export interface VerboseJson {
  text?: string
  language?: string
  segments?: { start: number; end: number; text: string }[]
  words?: { word: string; start: number; end: number; probability?: number }[]
}

/** whisper.cpp's `whisper-server` `verbose_json`: its segments carry tokens, in seconds, named `words`. */
interface WhisperServerJson {
  text?: string
  language?: string
  segments?: {
    start: number
    end: number
    text: string
    words?: { word: string; start?: number; end?: number; probability?: number }[]
  }[]
}

/** The OpenAI form of `POST /audio/transcriptions` (and `/translations`). */
export function openAiForm(
  wav: Uint8Array,
  model: string,
  options: TranscribeOptions,
  words: boolean,
): FormData {
  const form = new FormData()
  form.set('file', new Blob([wav], { type: 'audio/wav' }), 'audio.wav')
  form.set('model', model)
  form.set('response_format', 'verbose_json')
  form.append('timestamp_granularities[]', 'segment')
  if (words) form.append('timestamp_granularities[]', 'word')
  if (options.language) form.set('language', options.language)
  if (options.initialPrompt) form.set('prompt', options.initialPrompt)
  return form
}

/**
 * whisper-server's `/inference` form: translation is a field, not a path; the language is
 * `auto` to detect it; the language probabilities (a second encoder pass) are not asked for.
 */
export function whisperServerForm(
  wav: Uint8Array,
  options: TranscribeOptions,
  words: boolean,
  multilingual: boolean,
): FormData {
  const form = new FormData()
  form.set('file', new Blob([wav], { type: 'audio/wav' }), 'audio.wav')
  form.set('response_format', 'verbose_json')
  form.set('language', options.language ?? (multilingual ? 'auto' : 'en'))
  form.set('translate', options.task === 'translate' ? 'true' : 'false')
  form.set('no_timestamps', 'false')
  form.set('token_timestamps', words ? 'true' : 'false')
  form.set('no_language_probabilities', 'true')
  if (options.initialPrompt) form.set('prompt', options.initialPrompt)
  return form
}

/** whisper-server's answer as OpenAI's `verbose_json`: its tokens joined into words (a leading space starts one). */
export function fromWhisperServer(body: WhisperServerJson, words: boolean): VerboseJson {
  const out: VerboseJson = {
    ...(body.text !== undefined ? { text: body.text } : {}),
    ...(body.language !== undefined ? { language: body.language } : {}),
    segments: (body.segments ?? []).map((s) => ({ start: s.start, end: s.end, text: s.text })),
  }
  if (!words) return out
  const list: NonNullable<VerboseJson['words']> = []
  for (const s of body.segments ?? []) {
    let current: { word: string; start: number; end: number; p: number[] } | undefined
    const flush = () => {
      if (current?.word.trim()) {
        const probability = current.p.reduce((a, b) => a + b, 0) / current.p.length
        list.push({ word: current.word.trim(), start: current.start, end: current.end, probability })
      }
      current = undefined
    }
    for (const t of s.words ?? []) {
      if (/^\[_|^<\|/.test(t.word)) continue
      const start = t.start ?? s.start
      const end = t.end ?? start
      if (!current || t.word.startsWith(' ')) {
        flush()
        current = { word: t.word, start, end, p: [t.probability ?? 1] }
      } else {
        current.word += t.word
        current.end = Math.max(current.end, end)
        current.p.push(t.probability ?? 1)
      }
    }
    flush()
  }
  out.words = list
  return out
}
