import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodePcm16le, resample } from '@ws/core'

/** A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost (openssl). */
export function makeTestCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ws-tls-'))
  const at = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ws test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  )
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    at('key.pem'),
    '-out',
    at('server.csr'),
  )
  writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n')
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('ext.cnf'),
    '-out',
    at('cert.pem'),
  )
  return { dir, ca: at('ca.pem'), cert: at('cert.pem'), key: at('key.pem') }
}

/** 16 kHz audio as raw bytes in a protocol's encoding: PCM16 at `rate`, or G.711 μ-law at 8 kHz. */
export function rawAudio(audio: Float32Array, encoding: 'pcm16' | 'mulaw', rate: number): Buffer {
  const resampled = rate === 16_000 ? audio : resample(audio, 16_000, rate)
  if (encoding === 'pcm16') return Buffer.from(encodePcm16le(resampled))
  return Buffer.from(Array.from(resampled, mulaw))
}

/** One sample as G.711 μ-law (ITU-T G.711, with the usual bias and clip). */
function mulaw(x: number): number {
  const BIAS = 0x84
  let sample = Math.max(-32635, Math.min(32635, Math.round(x * 32768)))
  const sign = sample < 0 ? 0x80 : 0
  if (sign) sample = -sample
  sample += BIAS
  let exponent = 7
  for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = (sample >> (exponent + 3)) & 0x0f
  return ~(sign | (exponent << 4) | mantissa) & 0xff
}

const CLIENTS = fileURLToPath(new URL('./sdk-clients/', import.meta.url))

/** Runs an SDK client script (`sdk-clients/<name>.mjs`) as a user's app would run: its own Node process. */
export function runClient(
  name: string,
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ events: Record<string, unknown>[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(CLIENTS, `${name}.mjs`)], {
      cwd: CLIENTS,
      env: { ...process.env, ...env, CLIENT: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const events = out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>
          } catch {
            return { type: 'client.stdout', line }
          }
        })
      resolve({ events, stderr: err, code })
    })
  })
}

/**
 * The same audio through this server's own protocol (`prompt`, no revisions: what the drop-in
 * protocols serve), at `speed`× real time in 100 ms frames: the finals' text, for comparison.
 */
export async function nativeTranscript(
  baseUrl: string,
  audio: Float32Array,
  options: { ca?: string; token?: string; speed?: number } = {},
): Promise<string> {
  const { WebSocket } = await import('ws')
  const { readFileSync } = await import('node:fs')
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws/transcribe/prompt?revisions=false${options.token ? `&token=${options.token}` : ''}`
  const ws = new WebSocket(url, options.ca ? { ca: readFileSync(options.ca) } : {})
  const finals: string[] = []
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { type: string; text?: string }
    if (m.type === 'final' && m.text) finals.push(m.text)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const frame = 1600
  const started = performance.now()
  for (let i = 0, n = 0; i < audio.length; i += frame, n++) {
    ws.send(encodePcm16le(audio.subarray(i, i + frame)))
    const wait = started + ((n + 1) * 100) / (options.speed ?? 4) - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  ws.send(JSON.stringify({ type: 'end' }))
  await closed
  return finals.join(' ')
}
