/**
 * A small ONNX model writer: a graph builder and the protobuf encoding of the messages an
 * inference graph needs (onnx.proto's ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto), so converters can emit models without Python or protobuf
 * code generation.
 */

/** Protobuf writer: fields are appended in the order they are written. */
class Pb {
  #chunks: Uint8Array[] = []
  #length = 0

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes)
    this.#length += bytes.length
  }

  #varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value))
    const out: number[] = []
    do {
      let byte = Number(v & 0x7fn)
      v >>= 7n
      if (v !== 0n) byte |= 0x80
      out.push(byte)
    } while (v !== 0n)
    this.#push(Uint8Array.from(out))
  }

  int(field: number, value: number | bigint): this {
    this.#varint(field << 3)
    this.#varint(value)
    return this
  }

  float(field: number, value: number): this {
    this.#varint((field << 3) | 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.#push(b)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.#varint((field << 3) | 2)
    this.#varint(value.length)
    this.#push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  message(field: number, value: Pb): this {
    return this.bytes(field, value.finish())
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length)
    let at = 0
    for (const c of this.#chunks) {
      out.set(c, at)
      at += c.length
    }
    return out
  }
}

export type OnnxAttribute =
  | number
  | number[]
  | string
  | { floats: number[] }
  | { float: number }
  /** A one-element float tensor (ConstantOfShape's value). */
  | { tensor: number }

/** ONNX tensor element types used here (TensorProto.DataType). */
const FLOAT = 1
const INT64 = 7

export interface OnnxValue {
  name: string
  /** Dimensions: a number, or a name for a dynamic one. */
  shape: (number | string)[]
}

function valueInfo(v: OnnxValue): Pb {
  const shape = new Pb()
  for (const d of v.shape)
    shape.message(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().string(2, d))
  const tensorType = new Pb().int(1, FLOAT).message(2, shape)
  return new Pb().string(1, v.name).message(2, new Pb().message(1, tensorType))
}

function attribute(name: string, value: OnnxAttribute): Pb {
  const a = new Pb().string(1, name)
  if (typeof value === 'string') return a.string(4, value).int(20, 3)
  if (Array.isArray(value)) {
    for (const v of value) a.int(8, v)
    return a.int(20, 7)
  }
  if (typeof value === 'number') return a.int(3, value).int(20, 2)
  if ('float' in value) return a.float(2, value.float).int(20, 1)
  if ('tensor' in value) {
    const raw = new Uint8Array(Float32Array.of(value.tensor).buffer)
    return a.message(5, new Pb().int(1, 1).int(2, FLOAT).bytes(9, raw)).int(20, 4)
  }
  for (const v of value.floats) a.float(7, v)
  return a.int(20, 6)
}

/**
 * Builds one graph: initializers (weights and constants), nodes with generated output names,
 * and the graph's inputs and outputs. `toBytes` gives the serialized ModelProto.
 */
export class OnnxGraph {
  #nodes: Pb[] = []
  #initializers: Pb[] = []
  #names = new Set<string>()
  #counter = 0
  #inputs: OnnxValue[] = []
  #outputs: OnnxValue[] = []

  #fresh(hint: string): string {
    let name = hint
    while (this.#names.has(name)) name = `${hint}_${++this.#counter}`
    this.#names.add(name)
    return name
  }

  input(value: OnnxValue): string {
    this.#names.add(value.name)
    this.#inputs.push(value)
    return value.name
  }

  output(name: string, value: OnnxValue): void {
    this.node('Identity', [name], {}, value.name)
    this.#outputs.push(value)
  }

  /** A float32 initializer (weights, constants). */
  float(hint: string, data: Float32Array | number[], dims: number[]): string {
    const name = this.#fresh(hint)
    const f = data instanceof Float32Array ? data : Float32Array.from(data)
    const raw = new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength))
    const t = new Pb()
    for (const d of dims) t.int(1, d)
    this.#initializers.push(t.int(2, FLOAT).string(8, name).bytes(9, raw))
    return name
  }

  /** An int64 initializer (shapes, axes, pads). */
  ints(hint: string, data: number[]): string {
    const name = this.#fresh(hint)
    const raw = new Uint8Array(BigInt64Array.from(data.map(BigInt)).buffer)
    this.#initializers.push(new Pb().int(1, data.length).int(2, INT64).string(8, name).bytes(9, raw))
    return name
  }

  /** Adds a node; returns its (first) output's name. */
  node(
    op: string,
    inputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
    output?: string,
  ): string {
    const out = output ?? this.#fresh(`${op.toLowerCase()}`)
    if (output) this.#names.add(output)
    const n = new Pb()
    for (const i of inputs) n.string(1, i)
    n.string(2, out).string(3, out).string(4, op)
    for (const [k, v] of Object.entries(attributes)) n.message(5, attribute(k, v))
    this.#nodes.push(n)
    return out
  }

  toBytes(options: { name: string; producer: string; opset: number; doc?: string }): Uint8Array {
    const graph = new Pb()
    for (const n of this.#nodes) graph.message(1, n)
    graph.string(2, options.name)
    for (const t of this.#initializers) graph.message(5, t)
    if (options.doc) graph.string(10, options.doc)
    for (const i of this.#inputs) graph.message(11, valueInfo(i))
    for (const o of this.#outputs) graph.message(12, valueInfo(o))
    return new Pb()
      .int(1, 8) // IR version 8 (ONNX 1.10+), enough for opset 17
      .string(2, options.producer)
      .message(7, graph)
      .message(8, new Pb().string(1, '').int(2, options.opset))
      .finish()
  }
}
