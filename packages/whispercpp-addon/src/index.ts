export {
  type BinaryInfo,
  type BinarySource,
  buildFromSource,
  buildWhisperTools,
  DEFAULT_LOAD_ADDON_OPTIONS,
  type LoadAddonOptions,
  listCpuVariants,
  loadAddon,
  prebuiltPackageName,
  sourceBuildDir,
  toolsDir,
  type WhisperTool,
  whisperToolPath,
} from './binary.js'
export { WhisperAddonError, type WhisperAddonErrorCode } from './errors.js'
export { setWhisperLogger, type WhisperLogLevel } from './log.js'
export {
  ALIGNMENT_HEADS,
  type AlignmentHeads,
  DEFAULT_TRANSCRIBE_PARAMS,
  type ModelOptions,
  type Segment,
  type Token,
  type TranscribeParams,
  type TranscribeResult,
  WhisperModel,
} from './model.js'
export { DEFAULT_THREAD_GOVERNOR_OPTIONS, ThreadGovernor, type ThreadGovernorOptions } from './threads.js'
