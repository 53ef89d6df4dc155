import { readFileSync } from 'node:fs'
import { isWsError } from '@ws/core'
import { realSpeechFixtures } from '@ws/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fbank, frameCount } from '../worker/fbank.mjs'
import { cosine, SpeakerEmbedder } from './embedder.js'

// Reference outputs of the PyTorch model on four real clips (see the file's `about`).
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/campplus-golden.json', import.meta.url), 'utf8'),
) as {
  clips: {
    file: string
    frames: number
    fbank_frame0_first10: number[]
    fbank_frame0_first10_before_mean_norm: number[]
    embedding: number[]
  }[]
}
const clips = new Map(realSpeechFixtures('real-en').map((c) => [`${c.name}.wav`, c.audio]))
const audioOf = (file: string) => {
  const audio = clips.get(file)
  if (!audio) throw new Error(`${file} is not in the real-en corpus`)
  return audio
}

describe('fbank front end', () => {
  it('matches the reference features (Kaldi options of the model) on real speech', () => {
    for (const c of golden.clips) {
      const audio = audioOf(c.file)
      expect(frameCount(audio.length)).toBe(c.frames)
      const raw = fbank(audio, { meanNorm: false })
      const normed = fbank(audio)
      expect(normed.length).toBe(c.frames * 80)
      c.fbank_frame0_first10_before_mean_norm.forEach((v, i) => {
        expect(raw[i]).toBeCloseTo(v, 3)
      })
      c.fbank_frame0_first10.forEach((v, i) => {
        expect(normed[i]).toBeCloseTo(v, 3)
      })
    }
  })

  it('pads a window shorter than one frame to one frame', () => {
    expect(frameCount(100)).toBe(1)
    expect(fbank(new Float32Array(100).fill(0.1)).length).toBe(80)
  })
})

describe('SpeakerEmbedder (CAM++ converted to ONNX, onnxruntime-web)', () => {
  let embedder: SpeakerEmbedder
  beforeAll(async () => {
    embedder = await SpeakerEmbedder.create()
  }, 120_000)
  afterAll(() => embedder?.close())

  it('gives the reference embeddings of the PyTorch model on real clips', async () => {
    expect(embedder.dim).toBe(192)
    const out = await embedder.embed(golden.clips.map((c) => audioOf(c.file)))
    golden.clips.forEach((c, i) => {
      const e = out[i] as Float32Array
      const ref = Float32Array.from(c.embedding)
      expect(cosine(e, ref)).toBeGreaterThan(0.99999)
      let maxDiff = 0
      for (let k = 0; k < 192; k++)
        maxDiff = Math.max(maxDiff, Math.abs((e[k] as number) - (ref[k] as number)))
      expect(maxDiff).toBeLessThan(1e-4)
    })
  })

  it('embeds a batch of equal windows as it embeds each alone', async () => {
    const a = audioOf(golden.clips[3]?.file as string)
    const windows = [0, 12_000, 24_000].map((s) => a.subarray(s, s + 24_000))
    const batch = await embedder.embed(windows)
    for (const [i, w] of windows.entries()) {
      const [alone] = await embedder.embed([w])
      expect(cosine(batch[i] as Float32Array, alone as Float32Array)).toBeGreaterThan(0.99999)
    }
  })

  it('tells two real voices apart: same speaker closer than another speaker', async () => {
    // real-en is one speaker (Asterisk's prompts); real-nl holds several Dutch voice actors.
    const [a, b] = await embedder.embed([
      audioOf(golden.clips[2]?.file as string),
      audioOf(golden.clips[3]?.file as string),
    ])
    const nl = realSpeechFixtures('real-nl').find((c) => c.audio.length > 32_000)
    if (!nl) throw new Error('no real-nl clip over 2 s')
    const [other] = await embedder.embed([nl.audio])
    expect(cosine(a as Float32Array, b as Float32Array)).toBeGreaterThan(
      cosine(a as Float32Array, other as Float32Array) + 0.2,
    )
  })

  it('refuses bad windows with invalid_audio, and calls after close with closed', async () => {
    // 45 ms is the shortest window (three frames): its embedding is finite.
    const [shortest] = await embedder.embed([audioOf(golden.clips[0]?.file as string).slice(4000, 4720)])
    expect([...(shortest as Float32Array)].every(Number.isFinite)).toBe(true)
    for (const bad of [new Float32Array(719), Float32Array.of(...new Array(800).fill(Number.NaN))]) {
      const err = await embedder.embed([bad]).catch((e: unknown) => e)
      expect(isWsError(err, 'invalid_audio')).toBe(true)
    }
    const err = await embedder.embed([[0.1] as unknown as Float32Array]).catch((e: unknown) => e)
    expect(isWsError(err, 'invalid_audio')).toBe(true)
    const other = await SpeakerEmbedder.create()
    await other.close()
    await other.close()
    expect(isWsError(await other.embed([new Float32Array(1600)]).catch((e: unknown) => e), 'closed')).toBe(
      true,
    )
  })

  it('refuses a file that is not a speaker model with a typed error', async () => {
    const err = await SpeakerEmbedder.create({
      model: new URL('../package.json', import.meta.url).pathname.replace(/json$/, 'json.onnx'),
    }).catch((e: unknown) => e)
    expect(isWsError(err, 'model_not_found')).toBe(true)
  })
})
