import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { WsError } from '@ws/core'
import type { ProgressListener } from '../progress.js'
import { type Ct2Index, type Ct2Variable, readCt2Index } from './ct2.js'
import { floatToHalf, halfToFloat } from './half.js'
import { whisperMelFilters } from './mel.js'
import { readTokens } from './vocab.js'

export interface WhisperHparams {
  nVocab: number
  nAudioCtx: number
  nAudioState: number
  nAudioHead: number
  nAudioLayer: number
  nTextCtx: number
  nTextState: number
  nTextHead: number
  nTextLayer: number
  nMels: number
}

export interface ConvertOptions {
  onProgress?: ProgressListener
  signal?: AbortSignal
}

export interface ConvertResult {
  file: string
  hparams: WhisperHparams
  tensors: number
  bytes: number
}

const GGML_MAGIC = 0x67676d6c
const FTYPE_F32 = 0
const FTYPE_F16 = 1

/**
 * Converts a CTranslate2 Whisper model directory (model.bin, tokenizer.json) into the ggml
 * file whisper.cpp reads, as whisper.cpp's own converters lay it out: hyper-parameters,
 * Whisper's mel filterbank, the BPE vocabulary as bytes, then every tensor under
 * whisper.cpp's name. CTranslate2 fuses attention projections; they are split again
 * (self-attention QKV by rows, cross-attention KV by rows; the key bias, zero in Whisper, is
 * dropped as whisper.cpp has none). Weights stay float16; 1-D tensors, the conv biases and the
 * positional embeddings are float32, as whisper.cpp expects. The output appears atomically.
 */
export async function convertCt2ToGgml(
  ct2Dir: string,
  outFile: string,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  const progress = options.onProgress ?? (() => {})
  const modelBin = join(ct2Dir, 'model.bin')
  const index = await readCt2Index(modelBin).catch((err) => {
    throw err instanceof WsError
      ? err
      : new WsError('model_not_found', `Cannot read ${modelBin}: ${(err as Error).message}`)
  })
  if (index.specName !== 'WhisperSpec') {
    throw new WsError('model_load_failed', `${modelBin} is a ${index.specName}, not a Whisper model`)
  }
  const tokens = await readTokens(ct2Dir)
  const fh = await open(modelBin, 'r')
  const tmp = `${outFile}.tmp-${process.pid}`
  const weights = FTYPE_F16
  const out = createWriteStream(tmp)
  let written = 0
  const write = async (buf: Buffer) => {
    written += buf.length
    if (!out.write(buf)) await once(out, 'drain')
  }
  try {
    const variable = (name: string): Ct2Variable => {
      const v = index.variables.get(name) ?? index.variables.get(index.aliases.get(name) ?? '')
      if (!v) throw new WsError('model_load_failed', `${modelBin} has no variable ${name}`)
      return v
    }
    const read = async (v: Ct2Variable) => {
      const buf = Buffer.alloc(v.byteLength)
      await fh.read(buf, 0, v.byteLength, v.offset)
      return buf
    }
    const hparams = await readHparams(index, variable, read)
    progress({
      stage: 'convert',
      message: `Converting a Whisper model: ${hparams.nAudioLayer} encoder and ${hparams.nTextLayer} decoder layers, ${hparams.nVocab} tokens`,
    })

    await write(ggmlHeader(hparams, weights, tokens))
    const plan = tensorPlan(hparams, variable)
    let done = 0
    // A fused variable (Q, K and V in one) is read once for all its pieces, and kept only
    // until its last piece is written.
    const uses = new Map<Ct2Variable, number>()
    for (const t of plan) uses.set(t.source.variable, (uses.get(t.source.variable) ?? 0) + 1)
    const cache = new Map<Ct2Variable, Buffer>()
    for (const t of plan) {
      if (options.signal?.aborted) throw new WsError('aborted', 'Conversion aborted')
      const v = t.source.variable
      let data = cache.get(v) ?? (await read(v))
      const left = uses.get(v)! - 1
      uses.set(v, left)
      if (left > 0) cache.set(v, data)
      else cache.delete(v)
      if (t.source.rows) {
        const rowBytes = v.byteLength / v.dims[0]!
        data = data.subarray(t.source.rows[0] * rowBytes, t.source.rows[1] * rowBytes)
      }
      const converted = t.ftype === FTYPE_F32 ? toFloat32(data, v) : toFloat16(data, v)
      const name = Buffer.from(t.name, 'utf8')
      await write(int32(t.dims.length, name.length, t.ftype, ...[...t.dims].reverse()))
      await write(name)
      await write(converted)
      done++
      if (done % 50 === 0 || done === plan.length) {
        progress({ stage: 'convert', message: `Writing tensors: ${done} of ${plan.length}` })
      }
    }
    out.end()
    await once(out, 'close')
    await rename(tmp, outFile)
    progress({
      stage: 'done',
      message: `Wrote ${outFile} (${(written / 1_048_576).toFixed(1)} MB, ${plan.length} tensors)`,
    })
    return { file: outFile, hparams, tensors: plan.length, bytes: written }
  } catch (err) {
    out.destroy()
    await rm(tmp, { force: true })
    throw err
  } finally {
    await fh.close()
  }
}

/** One output tensor: its whisper.cpp name, shape (PyTorch order), type, and where its data comes from. */
export interface PlannedTensor {
  name: string
  dims: number[]
  ftype: number
  source: { variable: Ct2Variable; rows?: [number, number] }
}

/**
 * Which CTranslate2 variable (and which rows of it) becomes which whisper.cpp tensor: a pure
 * mapping from the model's shape. CTranslate2 fuses the self-attention projections (Q, K, V)
 * and the cross-attention ones (K, V); they are split again by rows, and the key bias (zero
 * in Whisper, absent in whisper.cpp) is dropped.
 */
export function tensorPlan(
  hparams: WhisperHparams,
  variable: (name: string) => Ct2Variable,
): PlannedTensor[] {
  const weights = FTYPE_F16
  const plan: PlannedTensor[] = []
  const add = (name: string, ct2: string, ftype: number, rows?: [number, number], dims?: number[]) => {
    const v = variable(ct2)
    const shape = dims ?? (rows ? [rows[1] - rows[0], ...v.dims.slice(1)] : v.dims)
    plan.push({ name, dims: shape, ftype, source: { variable: v, ...(rows ? { rows } : {}) } })
  }
  const d = hparams.nAudioState
  const linear = (to: string, from: string, rows?: [number, number], bias = true) => {
    add(`${to}.weight`, `${from}/weight`, weights, rows)
    if (bias) add(`${to}.bias`, `${from}/bias`, FTYPE_F32, rows)
  }
  const norm = (to: string, from: string) => {
    add(`${to}.weight`, `${from}/gamma`, FTYPE_F32)
    add(`${to}.bias`, `${from}/beta`, FTYPE_F32)
  }
  add('encoder.positional_embedding', 'encoder/position_encodings/encodings', FTYPE_F32)
  add('encoder.conv1.weight', 'encoder/conv1/weight', FTYPE_F16)
  add('encoder.conv1.bias', 'encoder/conv1/bias', FTYPE_F32, undefined, [d, 1])
  add('encoder.conv2.weight', 'encoder/conv2/weight', FTYPE_F16)
  add('encoder.conv2.bias', 'encoder/conv2/bias', FTYPE_F32, undefined, [d, 1])
  // The parts encoder and decoder blocks share: self-attention (CTranslate2 fuses Q, K
  // and V into one projection) and the MLP.
  const selfAttention = (to: string, from: string) => {
    norm(`${to}.attn_ln`, `${from}/self_attention/layer_norm`)
    linear(`${to}.attn.query`, `${from}/self_attention/linear_0`, [0, d])
    linear(`${to}.attn.key`, `${from}/self_attention/linear_0`, [d, 2 * d], false)
    linear(`${to}.attn.value`, `${from}/self_attention/linear_0`, [2 * d, 3 * d])
    linear(`${to}.attn.out`, `${from}/self_attention/linear_1`)
  }
  const mlp = (to: string, from: string) => {
    norm(`${to}.mlp_ln`, `${from}/ffn/layer_norm`)
    linear(`${to}.mlp.0`, `${from}/ffn/linear_0`)
    linear(`${to}.mlp.2`, `${from}/ffn/linear_1`)
  }
  for (let i = 0; i < hparams.nAudioLayer; i++) {
    selfAttention(`encoder.blocks.${i}`, `encoder/layer_${i}`)
    mlp(`encoder.blocks.${i}`, `encoder/layer_${i}`)
  }
  norm('encoder.ln_post', 'encoder/layer_norm')
  add('decoder.positional_embedding', 'decoder/position_encodings/encodings', FTYPE_F32)
  add('decoder.token_embedding.weight', 'decoder/embeddings/weight', weights)
  for (let i = 0; i < hparams.nTextLayer; i++) {
    const to = `decoder.blocks.${i}`
    const from = `decoder/layer_${i}`
    selfAttention(to, from)
    norm(`${to}.cross_attn_ln`, `${from}/attention/layer_norm`)
    linear(`${to}.cross_attn.query`, `${from}/attention/linear_0`)
    linear(`${to}.cross_attn.key`, `${from}/attention/linear_1`, [0, d], false)
    linear(`${to}.cross_attn.value`, `${from}/attention/linear_1`, [d, 2 * d])
    linear(`${to}.cross_attn.out`, `${from}/attention/linear_2`)
    mlp(to, from)
  }
  norm('decoder.ln', 'decoder/layer_norm')
  return plan
}

/** The file's head: hyper-parameters, Whisper's mel filterbank, the vocabulary as bytes. */
function ggmlHeader(hparams: WhisperHparams, ftype: number, tokens: readonly Buffer[]): Buffer {
  const h = hparams
  const filters = whisperMelFilters(h.nMels)
  return Buffer.concat([
    int32(GGML_MAGIC, h.nVocab, h.nAudioCtx, h.nAudioState, h.nAudioHead, h.nAudioLayer),
    int32(h.nTextCtx, h.nTextState, h.nTextHead, h.nTextLayer, h.nMels, ftype),
    int32(h.nMels, filters.length / h.nMels),
    Buffer.from(filters.buffer, filters.byteOffset, filters.byteLength),
    int32(tokens.length),
    ...tokens.flatMap((t) => [int32(t.length), t]),
  ])
}

function int32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length)
  for (const [i, v] of values.entries()) b.writeInt32LE(v, 4 * i)
  return b
}

async function readHparams(
  index: Ct2Index,
  variable: (name: string) => Ct2Variable,
  read: (v: Ct2Variable) => Promise<Buffer>,
): Promise<WhisperHparams> {
  const layers = (prefix: string) => {
    let n = 0
    for (const name of index.variables.keys()) {
      const m = new RegExp(`^${prefix}/layer_(\\d+)/`).exec(name)
      if (m) n = Math.max(n, Number(m[1]) + 1)
    }
    return n
  }
  const scalar = async (name: string) => {
    const v = variable(name)
    const buf = await read(v)
    return v.dtype === 'int16'
      ? buf.readInt16LE(0)
      : v.dtype === 'int32'
        ? buf.readInt32LE(0)
        : buf.readInt8(0)
  }
  const encPos = variable('encoder/position_encodings/encodings')
  const decPos = variable('decoder/position_encodings/encodings')
  const embeddings = variable('decoder/embeddings/weight')
  const conv1 = variable('encoder/conv1/weight')
  return {
    nVocab: embeddings.dims[0]!,
    nAudioCtx: encPos.dims[0]!,
    nAudioState: encPos.dims[1]!,
    nAudioHead: await scalar('encoder/num_heads'),
    nAudioLayer: layers('encoder'),
    nTextCtx: decPos.dims[0]!,
    nTextState: decPos.dims[1]!,
    nTextHead: await scalar('decoder/num_heads'),
    nTextLayer: layers('decoder'),
    nMels: conv1.dims[1]!,
  }
}

function toFloat32(data: Buffer, v: Ct2Variable): Buffer {
  if (v.dtype === 'float32') return data
  const out = Buffer.alloc((data.length / 2) * 4)
  if (v.dtype === 'float16') {
    for (let i = 0; i < data.length / 2; i++) out.writeFloatLE(halfToFloat(data.readUInt16LE(2 * i)), 4 * i)
    return out
  }
  if (v.dtype === 'bfloat16') {
    for (let i = 0; i < data.length / 2; i++) out.writeUInt32LE(data.readUInt16LE(2 * i) << 16, 4 * i)
    return out
  }
  throw new WsError(
    'model_load_failed',
    `${v.name} is ${v.dtype}: only float32/float16/bfloat16 CTranslate2 models can be converted (not quantized ones)`,
  )
}

function toFloat16(data: Buffer, v: Ct2Variable): Buffer {
  if (v.dtype === 'float16') return data
  const f32 = toFloat32(data, v)
  const out = Buffer.alloc(f32.length / 2)
  for (let i = 0; i < f32.length / 4; i++) out.writeUInt16LE(floatToHalf(f32.readFloatLE(4 * i)), 2 * i)
  return out
}
