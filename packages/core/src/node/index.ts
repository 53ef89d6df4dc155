/**
 * `@ws/core/node`: helpers that need Node's built-in modules (the main entry uses none).
 */
export {
  EXIT_CODES,
  type ExitCode,
  isParseArgsError,
  packageVersion,
  type RunCliOptions,
  runCli,
  UsageError,
} from './cli.js'
export { type DecodeAudioOptions, decodeAudio, decodeAudioStream } from './decode-audio.js'
export { refuseUpgrade } from './refuse-upgrade.js'
