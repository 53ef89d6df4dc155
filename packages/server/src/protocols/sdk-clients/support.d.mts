export function makeTestCertificates(): { dir: string; ca: string; cert: string; key: string }
export function rawAudio(audio: Float32Array, encoding: 'pcm16' | 'mulaw', rate: number): Buffer
export function runClient(
  name: string,
  config: Record<string, unknown>,
  env?: Record<string, string>,
): Promise<{ events: Record<string, unknown>[]; stderr: string; code: number | null }>
export function runClientWith(
  program: string,
  script: string,
  config: Record<string, unknown>,
  env?: Record<string, string>,
): Promise<{ events: Record<string, unknown>[]; stderr: string; code: number | null }>
