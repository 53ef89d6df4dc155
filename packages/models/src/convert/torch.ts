import { readFile } from 'node:fs/promises'
import { WsError } from '@ws/core'
import { zipEntries, zipRead } from './zip.js'

/** One tensor of a PyTorch state dict, copied out of the archive. */
export interface TorchTensor {
  dtype: 'float32' | 'int64'
  shape: number[]
  data: Float32Array | BigInt64Array
}

const STORAGES: Record<string, { dtype: TorchTensor['dtype']; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  LongStorage: { dtype: 'int64', bytes: 8 },
}

class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
class Storage {
  constructor(
    readonly type: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}
const MARK = Symbol('mark')

/**
 * Reads a PyTorch state dict saved with `torch.save` in its zip format (`archive/data.pkl` +
 * `archive/data/<key>`) without torch: a restricted unpickler that knows only what a state
 * dict of plain tensors holds (`_rebuild_tensor_v2` over float32/int64 storages, dicts,
 * tuples, numbers, strings) and refuses every other global, so an archive cannot run code.
 * Tensors must be contiguous and little-endian (torch's default).
 */
export async function readTorchStateDict(path: string): Promise<Map<string, TorchTensor>> {
  const zip = new Uint8Array(await readFile(path))
  const entries = zipEntries(zip, path)
  const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n))
  if (!pkl) throw new WsError('model_load_failed', `${path} is not a PyTorch zip archive (no data.pkl)`)
  const prefix = pkl.slice(0, -'data.pkl'.length)
  const order = entries.get(`${prefix}byteorder`)
  if (order && new TextDecoder().decode(zipRead(zip, order, path)) !== 'little')
    throw new WsError('model_load_failed', `${path} is big-endian`)
  const loadStorage = (s: Storage, offset: number, shape: number[], stride: number[]): TorchTensor => {
    const kind = STORAGES[s.type]
    if (!kind) throw new WsError('model_load_failed', `${path}: unsupported storage ${s.type}`)
    const entry = entries.get(`${prefix}data/${s.key}`)
    if (!entry) throw new WsError('model_load_failed', `${path}: storage ${s.key} is missing`)
    const numel = shape.reduce((a, b) => a * b, 1)
    let expect = 1
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1 && stride[i] !== expect)
        throw new WsError('model_load_failed', `${path}: a tensor of storage ${s.key} is not contiguous`)
      expect *= shape[i] as number
    }
    const bytes = zipRead(zip, entry, path)
    const begin = offset * kind.bytes
    if (begin + numel * kind.bytes > bytes.length)
      throw new WsError('model_load_failed', `${path}: storage ${s.key} is shorter than its tensor`)
    const copy = bytes.slice(begin, begin + numel * kind.bytes)
    const data =
      kind.dtype === 'float32'
        ? new Float32Array(copy.buffer, copy.byteOffset, numel)
        : new BigInt64Array(copy.buffer, copy.byteOffset, numel)
    return { dtype: kind.dtype, shape, data }
  }
  const pklEntry = entries.get(pkl)
  if (!pklEntry) throw new WsError('model_load_failed', `${path}: no data.pkl`)
  const top = unpickleTyped(zipRead(zip, pklEntry, path), {
    path,
    persistent: (pid) => {
      const [tag, type, key, , numel] = pid as [string, Global, string, string, number]
      if (tag !== 'storage' || !(type instanceof Global))
        throw new WsError('model_load_failed', `${path}: unexpected persistent id`)
      return new Storage(type.name, String(key), Number(numel))
    },
    call: (fn, args) => {
      if (fn.module === 'collections' && fn.name === 'OrderedDict') return new Map()
      if (fn.module === 'torch._utils' && fn.name === '_rebuild_tensor_v2') {
        const [storage, offset, shape, stride] = args as [Storage, number, number[], number[]]
        return loadStorage(storage, offset, [...shape], [...stride])
      }
      throw new WsError('model_load_failed', `${path}: refusing to call ${fn.module}.${fn.name}`)
    },
  })
  if (!(top instanceof Map)) throw new WsError('model_load_failed', `${path} does not hold a state dict`)
  const out = new Map<string, TorchTensor>()
  for (const [k, v] of top) {
    if (typeof k === 'string' && v && typeof v === 'object' && 'data' in v) out.set(k, v as TorchTensor)
  }
  return out
}

interface UnpickleHooks {
  path: string
  persistent: (pid: unknown) => unknown
  call: (fn: Global, args: unknown[]) => unknown
}

const ALLOWED_GLOBALS = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch.FloatStorage',
  'torch.LongStorage',
  'collections.OrderedDict',
])

/** {@link unpickle}, with anything thrown by malformed data turned into `model_load_failed`. */
function unpickleTyped(buf: Uint8Array, hooks: UnpickleHooks): unknown {
  try {
    return unpickle(buf, hooks)
  } catch (err) {
    if (err instanceof WsError) throw err
    throw new WsError('model_load_failed', `${hooks.path}: malformed data.pkl (${(err as Error).message})`, {
      cause: err,
    })
  }
}

/** The pickle opcodes a state dict uses (protocols 2–4), dicts as Maps and tuples as arrays. */
function unpickle(buf: Uint8Array, hooks: UnpickleHooks): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const text = new TextDecoder()
  const stack: unknown[] = []
  const memo = new Map<number, unknown>()
  let pos = 0
  const bad = (m: string): never => {
    throw new WsError('model_load_failed', `${hooks.path}: ${m} in data.pkl at byte ${pos}`)
  }
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK)
    if (i < 0) bad('no mark')
    return stack.splice(i).slice(1)
  }
  const line = () => {
    const end = buf.indexOf(10, pos)
    if (end < 0) bad('unterminated line')
    const s = text.decode(buf.subarray(pos, end))
    pos = end + 1
    return s
  }
  const str = (n: number) => {
    const s = text.decode(buf.subarray(pos, pos + n))
    pos += n
    return s
  }
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) return bad('SETITEMS on a non-dict')
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1])
  }
  const global = (module: string, name: string) => {
    if (!ALLOWED_GLOBALS.has(`${module}.${name}`)) bad(`refusing global ${module}.${name}`)
    return new Global(module, name)
  }
  while (pos < buf.length) {
    const op = buf[pos++] as number
    switch (op) {
      case 0x80: // PROTO
        pos += 1
        break
      case 0x95: // FRAME
        pos += 8
        break
      case 0x2e: // STOP
        return stack.pop()
      case 0x28: // MARK
        stack.push(MARK)
        break
      case 0x7d: // EMPTY_DICT
        stack.push(new Map())
        break
      case 0x5d: // EMPTY_LIST
        stack.push([])
        break
      case 0x29: // EMPTY_TUPLE
        stack.push([])
        break
      case 0x4e: // NONE
        stack.push(null)
        break
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        stack.push(op === 0x88)
        break
      case 0x4b: // BININT1
        stack.push(buf[pos++])
        break
      case 0x4d: // BININT2
        stack.push(view.getUint16(pos, true))
        pos += 2
        break
      case 0x4a: // BININT
        stack.push(view.getInt32(pos, true))
        pos += 4
        break
      case 0x8a: {
        // LONG1
        const n = buf[pos++] as number
        let v = 0n
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i] as number)
        if (n > 0 && ((buf[pos + n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n)
        pos += n
        stack.push(Number(v))
        break
      }
      case 0x47: // BINFLOAT
        stack.push(view.getFloat64(pos, false))
        pos += 8
        break
      case 0x58: // BINUNICODE
        pos += 4
        stack.push(str(view.getUint32(pos - 4, true)))
        break
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(buf[pos++] as number))
        break
      case 0x63: // GLOBAL
        stack.push(global(line(), line()))
        break
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string
        stack.push(global(stack.pop() as string, name))
        break
      }
      case 0x71: // BINPUT
        memo.set(buf[pos++] as number, stack.at(-1))
        break
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(pos, true), stack.at(-1))
        pos += 4
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack.at(-1))
        break
      case 0x68: // BINGET
        stack.push(memo.get(buf[pos++] as number))
        break
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(view.getUint32(pos, true)))
        pos += 4
        break
      case 0x74: // TUPLE
        stack.push(popMark())
        break
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        stack.push(stack.splice(stack.length - (op - 0x84)))
        break
      case 0x51: // BINPERSID
        stack.push(hooks.persistent(stack.pop()))
        break
      case 0x52: {
        // REDUCE
        const args = stack.pop() as unknown[]
        const fn = stack.pop()
        if (!(fn instanceof Global)) return bad('REDUCE of a non-global')
        stack.push(hooks.call(fn, args))
        break
      }
      case 0x75: {
        // SETITEMS
        const items = popMark()
        setItems(stack.at(-1), items)
        break
      }
      case 0x73: {
        // SETITEM
        const v = stack.pop()
        const k = stack.pop()
        setItems(stack.at(-1), [k, v])
        break
      }
      case 0x65: {
        // APPENDS
        const items = popMark()
        ;(stack.at(-1) as unknown[]).push(...items)
        break
      }
      case 0x61: // APPEND
        ;(stack.at(-2) as unknown[]).push(stack.pop())
        break
      case 0x62: // BUILD: an OrderedDict's attributes (torch's _metadata), not needed
        stack.pop()
        break
      default:
        bad(`unsupported opcode 0x${op.toString(16)}`)
    }
  }
  return bad('no STOP')
}
