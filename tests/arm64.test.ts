import { execFile, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { wordErrorRate } from '@ws/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { fetchArm64Node } from '../scripts/arm64-node.mjs'

// The prebuilt linux-arm64 addon, cross-compiled here on x86-64, run as an arm64 machine runs
// it: the official Node.js for arm64 under qemu-aarch64-static (user-mode emulation, with
// Debian's arm64 libraries from the cross toolchain's sysroot) loads @ws/whispercpp-addon,
// which picks @ws/whispercpp-addon-linux-arm64 and ggml the arm64 CPU variant, and transcribes
// real speech with tiny.en. Emulation is slow (qemu emulates the vector arithmetic in
// software): one short clip.
//
// Measured 2026-11-28 on 2 × AMD EPYC vCPU beside another busy process: 20–36 s for the clip
// (natively 0.1 s), 1.6 s for a load alone; 25–42 s for this file. qemu's processor has SVE
// (128-bit here, QEMU_CPU), I8MM, dot products and fp16: ggml loads an Armv8.6 variant. The clip's text, the
// same day, on each of the six arm64 variants forced: word for word (0 % WER), as on x86-64.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCRIPT = fileURLToPath(new URL('./arm64/decode.mjs', import.meta.url))
const QEMU = 'qemu-aarch64-static'
const SYSROOT = '/usr/aarch64-linux-gnu'
const ARM64_BIN = join(ROOT, 'packages/whispercpp-addon-linux-arm64/bin')
/** A short real clip: "Your call cannot be completed as dialed." (2.6 s). */
const CLIPS = ['cannot-complete-as-dialed']
/**
 * qemu's Armv8.6 processor with SVE at 128 bits, as the Arm servers that have SVE mostly run it
 * (Neoverse N2 and V2: AWS Graviton4, Google Axion, Azure Cobalt 100, NVIDIA Grace). At qemu's
 * own 512 bits the clip took 216 s on 2 × Intel Xeon (Sapphire Rapids), 224 s at 256 bits, and
 * 28 s at 128 (the same text), 2026-11-29: emulated wide SVE costs, not the addon.
 */
const QEMU_CPU = 'max,sve-default-vector-length=16'
const run = promisify(execFile)

const has = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0
const qemuRuns = has(QEMU) && existsSync(join(SYSROOT, 'lib/ld-linux-aarch64.so.1'))
// The setup installs qemu and the sysroot where it can (root and apt-get); elsewhere this skips.
const canInstall = process.getuid?.() === 0 && has('apt-get')
if (!qemuRuns && !canInstall) {
  console.log(
    `arm64 emulation test skipped: ${QEMU} or the arm64 sysroot (${SYSROOT}) is missing, and this user cannot install Debian's qemu-user-static and g++-aarch64-linux-gnu (needs root and apt-get)`,
  )
}

interface Decoded {
  arch: string
  info: {
    source: string
    dir: string
    features: Record<string, string>
    cpuVariant?: string
    cpuVariants: string[]
  }
  ms: number
  clips: { name: string; reference: string; text: string; ms: number }[]
}

describe.skipIf(!qemuRuns && !canInstall)('the linux-arm64 prebuilt addon under qemu-aarch64', () => {
  let node: string
  beforeAll(() => {
    expect(
      qemuRuns,
      `${QEMU} and ${SYSROOT} are missing: run WS_SETUP_ARM64=1 bash scripts/setup.sh (installs qemu-user-static and g++-aarch64-linux-gnu)`,
    ).toBe(true)
    node = fetchArm64Node()
  }, 120_000)

  /** tests/arm64/decode.mjs on Node.js for arm64, emulated; `variant` forces a CPU variant. */
  async function decode(clips: string[], variant = '') {
    const { stdout } = await run(QEMU, ['-cpu', QEMU_CPU, '-L', SYSROOT, node, SCRIPT, ...clips], {
      cwd: ROOT,
      env: { ...process.env, WS_GGML_CPU_VARIANT: variant, WS_WHISPERCPP_BUILD: '' },
      maxBuffer: 16 << 20,
    })
    const decoded = JSON.parse(stdout.trim().split('\n').at(-1)!) as Decoded
    expect(decoded.arch).toBe('arm64')
    // The platform package's binary, not a source build.
    expect(decoded.info.source).toBe('prebuilt')
    expect(decoded.info.dir).toBe(ARM64_BIN)
    expect(decoded.info.cpuVariants).toEqual(
      expect.arrayContaining(['armv8.0_1', 'armv8.2_2', 'armv8.2_3', 'armv8.6_1', 'armv8.6_2']),
    )
    expect(decoded.info.cpuVariants.every((v) => v.startsWith('armv'))).toBe(true)
    return decoded
  }

  it('is arm64 code: the module, whisper, ggml and the CPU variants', () => {
    // ELF e_machine at byte 18: 183 is AArch64.
    for (const file of ['whisper_addon.node', 'libwhisper.so', 'libggml.so', 'libggml-cpu-armv8.0_1.so']) {
      expect(readFileSync(join(ARM64_BIN, file)).readUInt16LE(18), file).toBe(183)
    }
  })

  it('loads on Node.js for arm64 and transcribes a real clip with tiny.en', async () => {
    const { info, ms, clips } = await decode(CLIPS)
    console.log(`arm64 under qemu: ${ms} ms in the process; features ${JSON.stringify(info.features)}`)
    // ggml chose the variant at load (none forced), by this processor's features: qemu's
    // emulated processor has dot products and more, so not the Armv8.0 baseline.
    expect(info.cpuVariant).toBeUndefined()
    expect(info.features.NEON).toBe('1')
    expect(info.features.DOTPROD).toBe('1')
    expect(info.features.AVX).toBeUndefined()
    expect(clips.map((c) => c.name)).toEqual(CLIPS)
    for (const clip of clips) {
      const { wer } = wordErrorRate(clip.reference, clip.text)
      console.log(`${clip.name}: ${clip.ms} ms, ${(wer * 100).toFixed(1)} % WER: ${clip.text}`)
      // Word for word on every arm64 variant and on x86-64 (above); one word of seven may move.
      expect(wer, clip.text).toBeLessThanOrEqual(0.15)
    }
  }, 300_000)

  it('loads a forced CPU variant alone (WS_GGML_CPU_VARIANT), as on x86-64', async () => {
    const { info } = await decode([], 'armv8.0_1')
    expect(info.cpuVariant).toBe('armv8.0_1')
    expect(info.features.NEON).toBe('1')
    expect(info.features.DOTPROD).toBeUndefined()
  }, 120_000)
})
