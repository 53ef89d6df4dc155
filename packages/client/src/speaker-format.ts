// Diarized transcripts as text: speaker turns, subtitles with speaker tags, and a live final's
// text by speaker. Pure functions, for the CLI and for callers of the SDK.
import { segmentTimes } from '@ws/core'

/** What the formatting needs of a segment: `diarized_json`'s, `verbose_json`'s and a final's fit. */
export interface TimedText {
  start: number
  end: number
  text: string
  speaker?: string | undefined
}

/** One speaker's consecutive segments. */
export interface SpeakerTurn {
  speaker: string | undefined
  start: number
  end: number
  text: string
}

/** Consecutive segments of the same speaker joined into turns (empty segments dropped). */
export function speakerTurns(segments: readonly TimedText[]): SpeakerTurn[] {
  const turns: SpeakerTurn[] = []
  for (const s of segments) {
    const text = s.text.trim()
    if (!text) continue
    const last = turns.at(-1)
    if (last && last.speaker === s.speaker) {
      last.end = Math.max(last.end, s.end)
      last.text = `${last.text} ${text}`
    } else turns.push({ speaker: s.speaker, start: s.start, end: s.end, text })
  }
  return turns
}

/** `[A] 0.00–2.31  Hello there.` */
export function formatTurn(turn: SpeakerTurn): string {
  return `[${turn.speaker ?? '?'}] ${turn.start.toFixed(2)}–${turn.end.toFixed(2)}  ${turn.text}`
}

/** The turns of a transcript, one line each. */
export function formatTurns(segments: readonly TimedText[]): string {
  return speakerTurns(segments)
    .map((t) => `${formatTurn(t)}\n`)
    .join('')
}

/**
 * A live final's (or revision's) text by speaker: `[A] …`, a line for each change of
 * speaker; the plain `text` when no segment has a speaker.
 */
export function speakerText(segments: readonly TimedText[], text: string): string {
  if (!segments.some((s) => s.speaker !== undefined)) return text.trim()
  return speakerTurns(segments)
    .map((t) => `[${t.speaker ?? '?'}] ${t.text}`)
    .join('\n')
}

/** SRT, a cue per segment (see {@link cues} for its times); a segment with a speaker starts with `[A] `. */
export function segmentsToSrt(segments: readonly TimedText[]): string {
  return cues(segments)
    .map(
      (s, i) =>
        `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.speaker === undefined ? '' : `[${s.speaker}] `}${s.text}\n`,
    )
    .join('\n')
}

/** WebVTT, a cue per segment (see {@link cues} for its times); a segment with a speaker is a voice span, `<v A>text`. */
export function segmentsToVtt(segments: readonly TimedText[]): string {
  const body = cues(segments).map((s) => {
    const text = escapeVtt(s.text)
    const voice = s.speaker === undefined ? text : `<v ${escapeVtt(s.speaker)}>${text}`
    return `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${voice}\n`
  })
  return `WEBVTT\n\n${body.join('\n')}`
}

/**
 * The cues of segments with text, timed as the server times segments (core's `segmentTimes`):
 * in order, none lasting past the next one's start nor of zero length. The server's segments
 * already start at their first word; a cue never starts earlier.
 */
function cues(segments: readonly TimedText[]): TimedText[] {
  const withText = segments.map((s) => ({ ...s, text: s.text.trim() })).filter((s) => s.text)
  return segmentTimes(withText.map(({ speaker, ...s }) => (speaker === undefined ? s : { ...s, speaker })))
}

function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function timestamp(seconds: number, separator: string): string {
  const ms = Math.max(0, Math.round(seconds * 1000))
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = Math.floor((ms % 60_000) / 1000)
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`
}
