import { fileURLToPath } from 'node:url'
import { loadSpeechFixtures } from '@ws/core/testing'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createEngine, defaultFinalWindow } from './engine.js'
import { optionsFromEnv, resolveServerOptions } from './options.js'

describe('createEngine', () => {
  it('runs faster-whisper at the compute type asked, checks its speed at start, and transcribes speech', async () => {
    const options = resolveServerOptions({ backend: 'faster', computeType: 'float32', offline: true })
    const engine = await createEngine(options, pino({ level: 'silent' }))
    try {
      expect(engine.backendName).toBe('faster-whisper')
      expect((engine.backend as unknown as { options: { computeType: string } }).options.computeType).toBe(
        'float32',
      )
      expect(engine.speed!.realTimeFactor).toBeGreaterThan(0)
      expect(engine.speed!.keepsUp).toBe(true)
      const [clip] = loadSpeechFixtures(
        fileURLToPath(new URL('../../../fixtures/speech', import.meta.url)),
        (f) => f.name === 'harvard-01',
      )
      const result = await engine.backend.transcribe(clip!.audio, 16_000)
      expect(result.text.toLowerCase()).toContain('smooth')
    } finally {
      await engine.backend.close()
    }
  }, 300_000)

  it('passes finalWindow to the local backend, and refuses another value', async () => {
    const engine = await createEngine(
      resolveServerOptions({ finalWindow: 'full', offline: true }),
      pino({ level: 'silent' }),
    )
    try {
      expect((engine.backend as unknown as { options: { finalWindow: string } }).options.finalWindow).toBe(
        'full',
      )
    } finally {
      await engine.backend.close()
    }
    expect(() => resolveServerOptions({ finalWindow: 'wide' as 'full' })).toThrow(
      /finalWindow must be one of auto, fitted, full, got "wide"/,
    )
  }, 300_000)

  it('gives base fitted finals unless a window is asked, tiny.en and model files auto', async () => {
    const window = async (o: Parameters<typeof resolveServerOptions>[0]) => {
      const engine = await createEngine(
        resolveServerOptions({ offline: true, ...o }),
        pino({ level: 'silent' }),
      )
      try {
        return (engine.backend as unknown as { options: { finalWindow: string } }).options.finalWindow
      } finally {
        await engine.backend.close()
      }
    }
    expect(await window({ model: 'base' })).toBe('fitted')
    expect(await window({ model: 'base', finalWindow: 'auto' })).toBe('auto')
    expect(await window({ model: 'tiny.en' })).toBe('auto')
    for (const name of ['base', 'base.en', 'base-q8_0', 'small', 'large-v3-turbo'])
      expect(defaultFinalWindow(name)).toBe('fitted')
    for (const name of [
      'tiny',
      'tiny.en-q5_1',
      './models/ggml-base.bin',
      'ggml-base.bin',
      'base.bin',
      'C:\\models\\base.bin',
    ])
      expect(defaultFinalWindow(name)).toBe('auto')
  }, 300_000)

  it('refuses a compute type on another backend, or one CTranslate2 does not run on a CPU', () => {
    expect(() => resolveServerOptions({ computeType: 'float32' })).toThrow(
      /computeType is an option of the faster backend/,
    )
    expect(() => resolveServerOptions({ backend: 'faster', computeType: 'float16' as 'int8' })).toThrow(
      /computeType must be one of int8, int8_float32, int16, float32, got "float16"/,
    )
  })

  it("takes the speaker model's threads from 1 to 16 (1 by default), from a flag or WS_SPEAKER_THREADS", () => {
    expect(resolveServerOptions({}).speakerThreads).toBe(1)
    expect(resolveServerOptions(optionsFromEnv({ WS_SPEAKER_THREADS: '2' })).speakerThreads).toBe(2)
    for (const bad of [0, 17, 1.5])
      expect(() => resolveServerOptions({ speakerThreads: bad })).toThrow(/speakerThreads/)
  })
})
