import { rmSync } from 'node:fs'
import { wordErrorRate } from '@ws/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installAndTranscribe, packTarballs, transcribeInWorkspace } from '../bench/install.mjs'

// The whisper.cpp backend installed as a user would (bench/install.mjs): tarballs into an
// empty project, npm at default settings, no environment variables or compiler
// flags. The prebuilt platform package must be what loads, with this processor's vector
// units, and transcribe as fast as the workspace build (the exact ratio is in `pnpm bench`).
let packed: { dir: string; tarballs: Record<string, string> }
beforeAll(async () => {
  packed = await packTarballs()
}, 300_000)
afterAll(() => packed && rmSync(packed.dir, { recursive: true, force: true }))

// npm only: the same prebuilt package loads under pnpm and yarn too, with the same vector
// units (tests/registry.test.ts installs it with all three), and this file ran twice as long.
describe.each(['npm'] as const)('installed from tarballs with %s', (manager) => {
  it('loads the prebuilt binary with the processor’s vector units and transcribes at the workspace build’s speed', async () => {
    const user = await installAndTranscribe(manager, packed.tarballs)
    const workspace = await transcribeInWorkspace()
    const ratio = user.ms / workspace.ms
    console.log(
      `${manager}: installed in ${user.installSeconds.toFixed(1)} s, binary ${user.source}, ten sentences ${user.ms.toFixed(0)} ms vs workspace ${workspace.ms.toFixed(0)} ms (×${ratio.toFixed(2)})`,
    )
    expect(user.source).toBe('prebuilt')
    expect(user.features.AVX2 ?? user.features.NEON ?? '1').toBe('1')
    expect(user.stderr).toBe('')
    expect(user.texts).toEqual(workspace.texts)
    // Greedy tiny.en on these ten: 25.9 % (the same text as the workspace's, checked above).
    expect(wordErrorRate(user.refs.join(' '), user.texts.join(' ')).wer).toBeLessThan(0.35)
    // A build without the processor's vector units is several times slower (smart-whisper
    // installed plainly was 6×); the same binary differs by noise only.
    expect(ratio).toBeLessThan(1.5)
  }, 600_000)
})
