export * from './convert/index.js'
export { type ResolvedGgmlModel, resolveGgmlModel, WHISPER_CPP_REPO } from './ggml-models.js'
export { cacheDir, modelsDir } from './paths.js'
export { mb, type ProgressEvent, type ProgressListener, progressPrinter } from './progress.js'
export {
  assertCt2Dir,
  type ModelSourceKind,
  type ModelSourceOptions,
  modelSource,
  modelSpec,
  type ResolvedModel,
  type ResolveModelOptions,
  resolveCt2Model,
} from './provision.js'
export { type FindPythonOptions, findPython, type PythonInfo } from './python.js'
export { knownModelNames, MODELS, type ModelSpec, type PypiFile, type PypiSource } from './registry.js'
export { type RunOptions, type RunResult, run } from './run.js'
export { downloadRepoFiles, type HuggingFaceOptions, listRepoFiles } from './sources/huggingface.js'
export { fetchFromPypi, type PypiOptions } from './sources/pypi.js'
export {
  DEFAULT_SPEAKER_MODEL,
  type ResolvedSpeakerModel,
  resolveSpeakerModel,
  SPEAKER_MODELS,
  type SpeakerModelSpec,
} from './speaker-models.js'
export { type InstalledModel, installAtomically, readInstalled } from './store.js'
