import { type ErrorCode, WsError } from '../errors.js'
import { isWhisperLanguage } from '../text/languages.js'
import { WHISPER_SAMPLE_RATE } from '../types.js'

/**
 * The session options of protocol v1, each described once: wire name, values, default, the
 * `StreamingSessionOptions` field it sets, and what it means. Validation
 * ({@link checkSessionOption}), query parsing, the client's URL ({@link sessionConfigQuery})
 * and the session's mapping (`streamingOptionsOf`, beside `StreamingSessionOptions`) are
 * all derived from this table.
 */
export const ENCODINGS = ['pcm_s16le', 'pcm_f32le'] as const
export type Encoding = (typeof ENCODINGS)[number]

/** `server`: the server's VAD ends utterances; `client`: the client sends `vad_end`; `off`: only `end` and the length limit do. */
export const VAD_MODES = ['server', 'client', 'off'] as const
export type VadMode = (typeof VAD_MODES)[number]

export const TASKS = ['transcribe', 'translate'] as const

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z]{2,4})?$/

/** How one option is described. */
export interface SessionOptionSpec {
  kind: 'language' | 'integer' | 'boolean' | 'enum'
  doc: string
  default?: string | number | boolean
  /** Integers: the range, and a value outside it that turns the feature off. */
  min?: number
  max?: number
  off?: number
  /** Enums: the values. */
  values?: readonly string[]
  /** The error code of a bad value (default `invalid_config`). */
  code?: ErrorCode
  /**
   * The `StreamingSessionOptions` field it sets, if any (checked to be one where that type is
   * declared: the protocol does not depend on the session).
   */
  session?: string
}

export const SESSION_OPTIONS = {
  language: {
    kind: 'language',
    doc: 'Language code such as "en" (one Whisper knows; a region such as "en-US" is dropped); "auto" (or leaving it out) detects it',
    session: 'language',
  },
  sample_rate: {
    kind: 'integer',
    min: 1000,
    max: 768_000,
    default: WHISPER_SAMPLE_RATE,
    code: 'unsupported_sample_rate',
    doc: 'Rate of the audio sent, in Hz; anything but 16000 is resampled',
    session: 'sampleRate',
  },
  encoding: {
    kind: 'enum',
    values: ENCODINGS,
    default: 'pcm_s16le',
    code: 'unsupported_encoding',
    doc: 'Encoding of binary audio frames (little-endian, mono)',
  },
  vad: {
    kind: 'enum',
    values: VAD_MODES,
    default: 'server',
    doc: "Who ends utterances: the server's VAD, the client (`vad_end`), or nobody (`off`)",
  },
  partial_interval_ms: {
    kind: 'integer',
    min: 50,
    max: 60_000,
    off: 0,
    default: 500,
    doc: 'New audio between partials, in ms; 0 turns partials off',
    session: 'partialIntervalMs',
  },
  word_timestamps: {
    kind: 'boolean',
    default: false,
    doc: 'Word times in finals',
    session: 'wordTimestamps',
  },
  revisions: {
    kind: 'boolean',
    default: true,
    doc: "Revision messages: finished utterances decoded again in blocks (up to the server's reviseMaxMs of the stream) replace their finals; false turns them off",
  },
  diarize: {
    kind: 'boolean',
    default: false,
    doc: 'Who said what: each final and revision carries `speaker` (`A`, `B`, … in order of first appearance, kept for the session) on its segments and words; an utterance in which the speaker changes is split there. Needs `@ws/diarize` on the server',
  },
  task: {
    kind: 'enum',
    values: TASKS,
    default: 'transcribe',
    doc: '`translate` turns speech in any language into English text',
    session: 'task',
  },
} as const satisfies Record<string, SessionOptionSpec>

type Table = typeof SESSION_OPTIONS
export type SessionOptionName = keyof Table
export const SESSION_OPTION_NAMES = Object.keys(SESSION_OPTIONS) as SessionOptionName[]

type ValueOf<S> = S extends { kind: 'integer' }
  ? number
  : S extends { kind: 'boolean' }
    ? boolean
    : S extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : string

/** Session options, as query parameters or a `config` message (see {@link SESSION_OPTIONS}). */
export type SessionConfig = { -readonly [K in SessionOptionName]?: ValueOf<Table[K]> }

type WithDefault = {
  [K in SessionOptionName]: Table[K] extends { default: unknown } ? K : never
}[SessionOptionName]

/** The default of each option that has one. */
export const DEFAULT_SESSION_CONFIG = Object.fromEntries(
  SESSION_OPTION_NAMES.flatMap((name) => {
    const spec: SessionOptionSpec = SESSION_OPTIONS[name]
    return spec.default === undefined ? [] : [[name, spec.default]]
  }),
) as { readonly [K in WithDefault]: ValueOf<Table[K]> }

function refuse(message: string, code: ErrorCode = 'invalid_config'): never {
  throw new WsError(code, message)
}

/**
 * Checks one option's value; throws a {@link WsError} (`invalid_config`, or the option's own
 * code such as `unsupported_sample_rate`) naming the option. `auto` for `language` is kept.
 */
export function checkSessionOption<K extends SessionOptionName>(name: K, value: unknown): ValueOf<Table[K]> {
  const spec: SessionOptionSpec = SESSION_OPTIONS[name]
  const code = spec.code ?? 'invalid_config'
  const got = JSON.stringify(value)
  switch (spec.kind) {
    case 'language':
      if (typeof value !== 'string' || !(value === 'auto' || LANGUAGE.test(value)))
        refuse(`${name} must be a language code such as "en", or "auto"; got ${got}`, code)
      if (value !== 'auto') {
        const primary = value.split('-')[0]!
        if (!isWhisperLanguage(primary))
          refuse(
            `${name} "${primary}" is not a language Whisper knows (see WHISPER_LANGUAGES); got ${got}`,
            code,
          )
        return primary as ValueOf<Table[K]>
      }
      break
    case 'integer': {
      const { min = 0, max = Number.MAX_SAFE_INTEGER, off } = spec
      const inRange = typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      if (!(inRange || (off !== undefined && value === off))) {
        const prefix = off === undefined ? '' : `${off} (off) or `
        refuse(`${name} must be ${prefix}an integer from ${min} to ${max}; got ${got}`, code)
      }
      break
    }
    case 'boolean':
      if (typeof value !== 'boolean') refuse(`${name} must be true or false; got ${got}`, code)
      break
    case 'enum':
      if (!(spec.values ?? []).includes(value as string))
        refuse(`${name} must be one of ${spec.values?.join(', ')}; got ${got}`, code)
      break
  }
  return value as ValueOf<Table[K]>
}

export function isSessionOptionName(name: string): name is SessionOptionName {
  return Object.hasOwn(SESSION_OPTIONS, name)
}

/** A query parameter's string as the value its option takes (left as is when it does not parse). */
export function sessionOptionFromQuery(name: SessionOptionName, text: string): unknown {
  switch (SESSION_OPTIONS[name].kind) {
    case 'integer':
      return /^\d+$/.test(text) ? Number(text) : text
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text
    default:
      return text
  }
}

/** Session options as query parameters (what a client puts in the URL). */
export function sessionConfigQuery(config: SessionConfig): [string, string][] {
  return SESSION_OPTION_NAMES.flatMap((name) => {
    const value = config[name]
    return value === undefined ? [] : [[name, String(value)] as [string, string]]
  })
}
