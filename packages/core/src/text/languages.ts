/**
 * The languages Whisper knows, as its tokenizer names them (ISO 639-1 codes, and `haw`, `yue`
 * where there is none): a multilingual model transcribes these and no other.
 */
// biome-ignore format: the tokenizer's table, in its order
export const WHISPER_LANGUAGES = [
  'en', 'zh', 'de', 'es', 'ru', 'ko', 'fr', 'ja', 'pt', 'tr', 'pl', 'ca', 'nl', 'ar', 'sv',
  'it', 'id', 'hi', 'fi', 'vi', 'he', 'uk', 'el', 'ms', 'cs', 'ro', 'da', 'hu', 'ta', 'no',
  'th', 'ur', 'hr', 'bg', 'lt', 'la', 'mi', 'ml', 'cy', 'sk', 'te', 'fa', 'lv', 'bn', 'sr',
  'az', 'sl', 'kn', 'et', 'mk', 'br', 'eu', 'is', 'hy', 'ne', 'mn', 'bs', 'kk', 'sq', 'sw',
  'gl', 'mr', 'pa', 'si', 'km', 'sn', 'yo', 'so', 'af', 'oc', 'ka', 'be', 'tg', 'sd', 'gu',
  'am', 'yi', 'lo', 'uz', 'fo', 'ht', 'ps', 'tk', 'nn', 'mt', 'sa', 'lb', 'my', 'bo', 'tl',
  'mg', 'as', 'tt', 'haw', 'ln', 'ha', 'ba', 'jw', 'su', 'yue',
] as const
export type WhisperLanguage = (typeof WHISPER_LANGUAGES)[number]

const KNOWN: ReadonlySet<string> = new Set(WHISPER_LANGUAGES)

/** Whether Whisper knows `code` (exactly: `es`, not `es-MX`). */
export function isWhisperLanguage(code: string): code is WhisperLanguage {
  return KNOWN.has(code)
}
