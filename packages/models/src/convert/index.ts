export { campplusOnnx } from './campplus.js'
export { type Ct2Index, type Ct2Variable, readCt2Index } from './ct2.js'
export { type ConvertOptions, type ConvertResult, convertCt2ToGgml, type WhisperHparams } from './ggml.js'
export { checkGgmlFile, type GgmlFileInfo } from './ggml-check.js'
export { floatToHalf, halfToFloat } from './half.js'
export { whisperMelFilters } from './mel.js'
export { type OnnxAttribute, OnnxGraph, type OnnxValue } from './onnx.js'
export {
  dequantizeBlocks,
  parseQuantizedName,
  QUANTIZATIONS,
  type Quantization,
  type QuantizeResult,
  quantizeBlocks,
  quantizeGgml,
} from './quantize.js'
export { readTorchStateDict, type TorchTensor } from './torch.js'
export { type ZipEntry, zipEntries, zipRead } from './zip.js'
