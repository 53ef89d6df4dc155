// Test support: Debian's Chromium, headless, with a fake microphone that plays a WAV file in a
// loop. Used by the browser tests (demo page, @ws/client's browser build).
import { execFileSync } from 'node:child_process'
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

/** Chromium whose microphone plays `wav` (16-bit PCM) in a loop. */
export function launchWithMicrophone(wav: string): Promise<Browser> {
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
    ],
  })
}
