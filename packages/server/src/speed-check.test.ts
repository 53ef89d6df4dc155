import type { TranscribeOptions } from '@ws/core'
import { FakeBackend } from '@ws/core/testing'
import { describe, expect, it } from 'vitest'
import { checkSpeed, SPEECH_COST_FACTOR, SPEED_PROBE_SECONDS, speedWarning } from './speed-check.js'

/** A fake engine on a clock of its own: each decode takes `costMs` of it. */
function engineTaking(costMs: number) {
  let clock = 0
  const calls: { seconds: number; options: TranscribeOptions | undefined }[] = []
  const backend = new FakeBackend()
  const transcribe = backend.transcribe.bind(backend)
  backend.transcribe = async (audio, rate, options) => {
    calls.push({ seconds: audio.length / rate, options })
    clock += costMs
    return transcribe(audio, rate, options)
  }
  return { backend, calls, now: () => clock }
}

describe('checkSpeed', () => {
  it('times a warmed-up live decode of the probe and says whether one session keeps up', async () => {
    const fast = engineTaking(100)
    await fast.backend.loadModel('fake')
    const check = await checkSpeed(fast.backend, { maxLoad: 0.8, now: fast.now })
    // Two decodes of the probe: a warm-up, then the timed one.
    expect(fast.calls.map((c) => c.seconds)).toEqual([SPEED_PROBE_SECONDS, SPEED_PROBE_SECONDS])
    expect(fast.calls[1]!.options).toMatchObject({ live: true, language: 'en' })
    expect(check.probeMs).toBe(100)
    expect(check.realTimeFactor).toBeCloseTo(0.02)
    expect(check.finalsLoad).toBeCloseTo(0.02 * SPEECH_COST_FACTOR)
    expect(check.keepsUp).toBe(true)
    expect(speedWarning(check, 'tiny.en', 0.8)).toBeUndefined()
  })

  it('warns when one talking session would need more of the engine than maxLoad', async () => {
    // 2.5 s per 5 s of probe: 0.5 × 1.75 = 0.875 of the engine, over 0.8.
    const slow = engineTaking(2500)
    await slow.backend.loadModel('fake')
    const check = await checkSpeed(slow.backend, { maxLoad: 0.8, now: slow.now })
    expect(check.keepsUp).toBe(false)
    expect(speedWarning(check, 'medium', 0.8)).toBe(
      "medium decodes 1 s of audio in 0.50 s here: one talking session's finals would take about 88 % of the engine (more than maxLoad 0.8), so finals will fall behind the speech. Choose a smaller or quantized model (e.g. tiny.en or base-q8_0), more threads, or a faster machine.",
    )
    // The same engine keeps up under a higher maxLoad.
    expect((await checkSpeed(slow.backend, { maxLoad: 1, now: slow.now })).keepsUp).toBe(true)
  })
})
