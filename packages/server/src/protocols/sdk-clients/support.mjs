// Helpers of the drop-in protocols' tests and bench (bench/protocols.mjs): a throwaway TLS CA,
// audio in each protocol's encoding, and the SDK client apps run as their own processes.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodePcm16le, resample } from '@ws/core'

/** A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost (openssl). */
export function makeTestCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'ws-tls-'))
  const at = (name) => join(dir, name)
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' })
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
export function rawAudio(audio, encoding, rate) {
  const resampled = rate === 16_000 ? audio : resample(audio, 16_000, rate)
  if (encoding === 'pcm16') return Buffer.from(encodePcm16le(resampled))
  return Buffer.from(Array.from(resampled, mulaw))
}

/** One sample as G.711 μ-law (ITU-T G.711, with the usual bias and clip). */
function mulaw(x) {
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

const CLIENTS = fileURLToPath(new URL('./', import.meta.url))

/** Runs a client app (`sdk-clients/<name>.mjs`) as a user's app runs: its own Node process. */
export function runClient(name, config, env = {}) {
  return runClientWith(process.execPath, `${name}.mjs`, config, env)
}

/**
 * Runs `sdk-clients/<script>` with `program` (Node, or a venv's Python), `config` in `$CLIENT`;
 * resolves with the JSON lines it printed (`events`), its stderr and exit code.
 */
export function runClientWith(program, script, config, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [join(CLIENTS, script)], {
      cwd: CLIENTS,
      env: { ...process.env, ...env, CLIENT: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d.toString()
    })
    child.stderr.on('data', (d) => {
      err += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const events = out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          try {
            return JSON.parse(line)
          } catch {
            return { type: 'client.stdout', line }
          }
        })
      resolve({ events, stderr: err, code })
    })
  })
}
