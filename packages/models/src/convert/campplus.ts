import { WsError } from '@ws/core'
import { OnnxGraph } from './onnx.js'
import type { TorchTensor } from './torch.js'

/**
 * CAM++ (3D-Speaker's `CAMPPlus(feat_dim=80, embedding_size=192)`) as an ONNX graph, from its
 * PyTorch state dict. Input `fbank` (batch, frames, 80): Kaldi log-Mel features with each
 * window's mean removed; output `embedding` (batch, 192): the speaker embedding as upstream
 * 3D-Speaker defines it (dense layer + BatchNorm without affine, no ReLU, not normalised).
 *
 * The structure, for each part of the state dict: an FCM head of 2-D residual blocks on
 * (frequency, time), a strided TDNN layer, three densely connected blocks of CAM layers
 * (12, 24, 16 layers; dilation 1, 2, 2) with transition layers, statistics pooling (mean and
 * unbiased standard deviation over time) and a dense layer. Each CAM layer masks its local
 * convolution with a context of the window's mean plus the mean of its 100-frame segment.
 */
export function campplusOnnx(weights: Map<string, TorchTensor>): Uint8Array {
  const g = new OnnxGraph()
  const used = new Set<string>()
  const w = (key: string): string => {
    const t = weights.get(key)
    if (t?.dtype !== 'float32')
      throw new WsError('model_load_failed', `The CAM++ state dict has no float tensor ${key}`)
    used.add(key)
    return g.float(key, t.data as Float32Array, t.shape)
  }
  const bn = (x: string, p: string): string =>
    g.node(
      'BatchNormalization',
      [x, w(`${p}.weight`), w(`${p}.bias`), w(`${p}.running_mean`), w(`${p}.running_var`)],
      {
        epsilon: { float: 1e-5 },
      },
    )
  const relu = (x: string) => g.node('Relu', [x])
  const conv = (
    x: string,
    key: string,
    a: { stride?: number[]; pad: number; dil?: number; bias?: string },
  ) => {
    const weight = weights.get(key)
    const k = weight?.shape.slice(2) ?? []
    const dims = k.length
    return g.node('Conv', a.bias ? [x, w(key), w(a.bias)] : [x, w(key)], {
      kernel_shape: k,
      strides: a.stride ?? new Array(dims).fill(1),
      pads: new Array(2 * dims).fill(a.pad),
      dilations: new Array(dims).fill(a.dil ?? 1),
    })
  }

  // (B, T, 80) → (B, 1, 80, T): channels 1, height = frequency, width = time.
  const fbank = g.input({ name: 'fbank', shape: ['batch', 'frames', 80] })
  let x = g.node('Unsqueeze', [g.node('Transpose', [fbank], { perm: [0, 2, 1] }), g.ints('axis1', [1])])

  x = relu(bn(conv(x, 'head.conv1.weight', { pad: 1 }), 'head.bn1'))
  for (const layer of ['layer1', 'layer2']) {
    for (const [i, s] of [
      [0, 2],
      [1, 1],
    ] as const) {
      const p = `head.${layer}.${i}`
      let out = relu(bn(conv(x, `${p}.conv1.weight`, { stride: [s, 1], pad: 1 }), `${p}.bn1`))
      out = bn(conv(out, `${p}.conv2.weight`, { pad: 1 }), `${p}.bn2`)
      const shortcut =
        s === 1 ? x : bn(conv(x, `${p}.shortcut.0.weight`, { stride: [s, 1], pad: 0 }), `${p}.shortcut.1`)
      x = relu(g.node('Add', [out, shortcut]))
    }
  }
  x = relu(bn(conv(x, 'head.conv2.weight', { stride: [2, 1], pad: 1 }), 'head.bn2'))
  x = g.node('Reshape', [x, g.ints('head_shape', [0, 320, -1])]) // channel c·10 + frequency f

  x = relu(
    bn(conv(x, 'xvector.tdnn.linear.weight', { stride: [2], pad: 2 }), 'xvector.tdnn.nonlinear.batchnorm'),
  )

  // Segment pooling's shapes depend only on the number of frames T', the same in every layer.
  const frames = g.node('Slice', [g.node('Shape', [x]), g.ints('two', [2]), g.ints('three', [3])])
  const segments = g.node('Div', [
    g.node('Add', [frames, g.ints('ninety_nine', [99])]),
    g.ints('hundred', [100]),
  ])
  const padded = g.node('Mul', [segments, g.ints('hundred_', [100])])
  const pads = g.node('Concat', [g.ints('zeros5', [0, 0, 0, 0, 0]), g.node('Sub', [padded, frames])], {
    axis: 0,
  })
  const segShape = g.node('Concat', [g.ints('keep2', [0, 0]), segments, g.ints('seg_len', [100])], {
    axis: 0,
  })
  const ones = g.node(
    'ConstantOfShape',
    [g.node('Concat', [g.ints('one_one', [1, 1]), frames], { axis: 0 })],
    { value: { tensor: 1 } },
  )
  const axis3 = g.ints('axis3', [3])
  // Frames per segment (the last one is partial): the divisor of avg_pool1d(ceil_mode=True).
  const counts = g.node('ReduceSum', [g.node('Reshape', [g.node('Pad', [ones, pads]), segShape]), axis3], {
    keepdims: 1,
  })
  const expandTo = g.ints('expand_to', [1, 1, 1, 100])
  const flat = g.ints('flat', [0, 0, -1])
  const start0 = g.ints('start0', [0])
  const axis2 = g.ints('axis2', [2])
  const segmentMeans = (h: string) => {
    const sums = g.node('ReduceSum', [g.node('Reshape', [g.node('Pad', [h, pads]), segShape]), axis3], {
      keepdims: 1,
    })
    const perFrame = g.node('Reshape', [g.node('Expand', [g.node('Div', [sums, counts]), expandTo]), flat])
    return g.node('Slice', [perFrame, start0, frames, axis2])
  }

  const blocks = [
    { layers: 12, dil: 1 },
    { layers: 24, dil: 2 },
    { layers: 16, dil: 2 },
  ]
  blocks.forEach(({ layers, dil }, b) => {
    for (let i = 1; i <= layers; i++) {
      const p = `xvector.block${b + 1}.tdnnd${i}`
      let h = conv(relu(bn(x, `${p}.nonlinear1.batchnorm`)), `${p}.linear1.weight`, { pad: 0 })
      h = relu(bn(h, `${p}.nonlinear2.batchnorm`))
      const local = conv(h, `${p}.cam_layer.linear_local.weight`, { pad: dil, dil })
      const context = g.node('Add', [g.node('ReduceMean', [h], { axes: [2], keepdims: 1 }), segmentMeans(h)])
      const hidden = relu(
        conv(context, `${p}.cam_layer.linear1.weight`, { pad: 0, bias: `${p}.cam_layer.linear1.bias` }),
      )
      const mask = g.node('Sigmoid', [
        conv(hidden, `${p}.cam_layer.linear2.weight`, { pad: 0, bias: `${p}.cam_layer.linear2.bias` }),
      ])
      x = g.node('Concat', [x, g.node('Mul', [local, mask])], { axis: 1 })
    }
    const p = `xvector.transit${b + 1}`
    x = conv(relu(bn(x, `${p}.nonlinear.batchnorm`)), `${p}.linear.weight`, { pad: 0 })
  })
  x = relu(bn(x, 'xvector.out_nonlinear.batchnorm'))

  // Statistics pooling: mean, then the unbiased standard deviation, over time.
  const mean = g.node('ReduceMean', [x], { axes: [2], keepdims: 1 })
  const d = g.node('Sub', [x, mean])
  const n1 = g.node('Sub', [g.node('Cast', [frames], { to: 1 }), g.float('one', [1], [1])])
  const std = g.node('Sqrt', [
    g.node('Div', [g.node('ReduceSum', [g.node('Mul', [d, d]), axis2], { keepdims: 0 }), n1]),
  ])
  const stats = g.node('Concat', [g.node('Squeeze', [mean, axis2]), std], { axis: 1 })

  // Dense layer: a 1×1 convolution on the pooled vector, then BatchNorm without affine.
  const dense = weights.get('xvector.dense.linear.weight')
  const mu = weights.get('xvector.dense.nonlinear.batchnorm.running_mean')
  const variance = weights.get('xvector.dense.nonlinear.batchnorm.running_var')
  if (!dense || !mu || !variance || dense.shape.join(',') !== '192,1024,1')
    throw new WsError('model_load_failed', 'The CAM++ state dict lacks its 192-d dense layer')
  const W = dense.data as Float32Array
  const transposed = new Float32Array(1024 * 192)
  for (let o = 0; o < 192; o++)
    for (let i = 0; i < 1024; i++) transposed[i * 192 + o] = W[o * 1024 + i] as number
  const scale = new Float32Array(192)
  const shift = new Float32Array(192)
  for (let o = 0; o < 192; o++) {
    scale[o] = 1 / Math.sqrt((variance.data[o] as number) + 1e-5)
    shift[o] = -(mu.data[o] as number) * (scale[o] as number)
  }
  for (const k of [
    'xvector.dense.linear.weight',
    'xvector.dense.nonlinear.batchnorm.running_mean',
    'xvector.dense.nonlinear.batchnorm.running_var',
  ])
    used.add(k)
  const projected = g.node('MatMul', [stats, g.float('dense_t', transposed, [1024, 192])])
  const embedding = g.node('Add', [
    g.node('Mul', [projected, g.float('dense_scale', scale, [192])]),
    g.float('dense_shift', shift, [192]),
  ])
  g.output(embedding, { name: 'embedding', shape: ['batch', 192] })

  const unused = [...weights.keys()].filter((k) => !used.has(k) && !k.endsWith('num_batches_tracked'))
  if (unused.length > 0)
    throw new WsError(
      'model_load_failed',
      `Not a CAM++ state dict this converter knows: unused ${unused.slice(0, 3).join(', ')}`,
    )
  return g.toBytes({
    name: 'campplus',
    producer: '@ws/models',
    opset: 17,
    doc: 'CAM++ speaker embedding (3D-Speaker), 192-d',
  })
}
