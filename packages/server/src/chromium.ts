// Test support: Debian's Chromium, headless, with a fake microphone that plays a WAV file in a
// loop. Used by the browser tests (demo page, @ws/client's browser build).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeWav } from '@ws/core'
import { composeUtterances } from '@ws/core/testing'
import { type Browser, chromium } from 'playwright-core'

function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined
    } catch {}
  }
  return undefined
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? findChromium()
if (!CHROMIUM_PATH && process.env.CI)
  throw new Error('Chromium is needed for the browser tests; run scripts/setup.sh')

/**
 * Chromium whose microphone says `speech` in a loop: the sentence, then 6 s of silence (enough
 * for the VAD to end it). `close()` closes the browser and removes the microphone's file.
 */
export function launchSpeaking(
  speech: Parameters<typeof composeUtterances>[0][number],
  args: string[] = [],
): Promise<{ browser: Browser; close(): Promise<void> }> {
  return launchPlaying(composeUtterances([speech], [], { leadSeconds: 0.5, trailSeconds: 6 }).audio, args)
}

/**
 * Chromium whose microphone plays `audio` (16 kHz) in a loop, with more command-line `args`;
 * `close()` as for {@link launchSpeaking}.
 */
export async function launchPlaying(
  audio: Float32Array,
  args: string[] = [],
): Promise<{ browser: Browser; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ws-chromium-'))
  const wav = join(dir, 'mic.wav')
  writeFileSync(wav, writeWav(audio, 16_000))
  const browser = await launchWithMicrophone(wav, args).catch((err) => {
    rmSync(dir, { recursive: true, force: true })
    throw err
  })
  return {
    browser,
    close: async () => {
      await browser.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Chromium whose microphone plays `wav` (16-bit PCM) in a loop. */
function launchWithMicrophone(wav: string, extra: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH!,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
      ...extra,
    ],
  })
}
