import { type Segment, WsError } from '@ws/core'
import type { DiarizeRequest } from './speakers.js'

/** Most known speakers one request names (OpenAI's limit). */
export const MAX_KNOWN_SPEAKERS = 4

/**
 * The diarization fields of a transcription form, or undefined when it asks for none:
 * `diarize=true` (or `response_format=diarized_json`), the hints `num_speakers`,
 * `min_speakers`, `max_speakers` (1–8), and OpenAI's `known_speaker_names[]` with
 * `known_speaker_references[]` (data URLs of short clips, one per name).
 */
export function readDiarizeFields(form: FormData, diarizedFormat: boolean): DiarizeRequest | undefined {
  const flag = form.get('diarize')
  if (flag !== null && flag !== 'true' && flag !== 'false')
    throw new WsError('invalid_config', `diarize is true or false, got "${String(flag)}"`)
  const names = all(form, 'known_speaker_names')
  const references = all(form, 'known_speaker_references')
  if (!diarizedFormat && flag !== 'true') {
    if (names.length > 0 || references.length > 0)
      throw new WsError(
        'invalid_config',
        'known_speaker_names[] need diarize=true or response_format=diarized_json',
      )
    return undefined
  }
  const request: DiarizeRequest = {}
  for (const [field, key] of [
    ['num_speakers', 'numSpeakers'],
    ['min_speakers', 'minSpeakers'],
    ['max_speakers', 'maxSpeakers'],
  ] as const) {
    const value = form.get(field)
    if (value === null || value === '') continue
    const n = Number(value)
    if (!(Number.isInteger(n) && n >= 1 && n <= 8))
      throw new WsError('invalid_config', `${field} is an integer from 1 to 8, got "${String(value)}"`)
    request[key] = n
  }
  const { numSpeakers: n, minSpeakers: min = 1, maxSpeakers: max = 8 } = request
  if (min > max || (n !== undefined && (n < min || n > max)))
    throw new WsError('invalid_config', 'min_speakers ≤ num_speakers ≤ max_speakers')
  if (names.length !== references.length)
    throw new WsError(
      'invalid_config',
      `known_speaker_names[] (${names.length}) and known_speaker_references[] (${references.length}) go in pairs`,
    )
  if (names.length > MAX_KNOWN_SPEAKERS)
    throw new WsError('invalid_config', `At most ${MAX_KNOWN_SPEAKERS} known speakers, got ${names.length}`)
  if (new Set(names).size !== names.length || names.some((n) => n.trim() === ''))
    throw new WsError('invalid_config', 'known_speaker_names[] are distinct and not empty')
  if (names.length > 0)
    request.known = names.map((name, i) => ({ name, bytes: dataUrlBytes(references[i] as string, name) }))
  return request
}

function all(form: FormData, name: string): string[] {
  return [...form.getAll(`${name}[]`), ...form.getAll(name)].map((v) => {
    if (typeof v !== 'string') throw new WsError('invalid_config', `${name}[] are text fields`)
    return v
  })
}

/** The bytes of a `data:` URL (base64 or percent-encoded). */
function dataUrlBytes(url: string, name: string): Uint8Array {
  const m = /^data:([^,]*),(.*)$/s.exec(url)
  if (!m) throw new WsError('invalid_config', `The reference of "${name}" is not a data: URL`)
  const meta = m[1] as string
  const data = m[2] as string
  if (meta.endsWith(';base64')) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(data))
      throw new WsError('invalid_config', `The reference of "${name}" is not valid base64`)
    return new Uint8Array(Buffer.from(data, 'base64'))
  }
  try {
    return new TextEncoder().encode(decodeURIComponent(data))
  } catch {
    throw new WsError('invalid_config', `The reference of "${name}" is not a valid data: URL`)
  }
}

/** OpenAI's `diarized_json` segments. */
export function diarizedSegments(segments: readonly Segment[]) {
  return segments.map((s, i) => ({
    type: 'transcript.text.segment' as const,
    id: `seg_${i}`,
    start: round(s.start),
    end: round(s.end),
    text: s.text.trim(),
    speaker: s.speaker ?? 'A',
  }))
}

/** A subtitle cue's text with its speaker: `[A] text` in SRT, a voice span in WebVTT. */
export function speakerCue(segment: Segment, format: 'srt' | 'vtt'): string {
  const text = segment.text.trim()
  if (segment.speaker === undefined) return text
  return format === 'srt' ? `[${segment.speaker}] ${text}` : `<v ${segment.speaker}>${text}`
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000
}
