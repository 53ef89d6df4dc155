// HAProxy for the scale-out test and benchmark: the shipped deploy/haproxy/haproxy.cfg with
// only its addresses changed, so what is measured and tested is what users deploy.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SHIPPED = fileURLToPath(new URL('../deploy/haproxy/haproxy.cfg', import.meta.url))

/** The haproxy executable (Debian puts it in /usr/sbin, off a user's PATH), or undefined. */
export function haproxyBinary() {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return undefined
}

/** The shipped configuration, listening on 127.0.0.1:frontPort, in front of replicas on 127.0.0.1. */
export function loopbackConfig(frontPort, replicaPorts) {
  const servers = replicaPorts.map((port, i) => `    server replica-${i + 1} 127.0.0.1:${port} check`)
  const cfg = readFileSync(SHIPPED, 'utf8')
    .replace(/^\s*bind .*$/m, `    bind 127.0.0.1:${frontPort}`)
    .replace(/^(\s*server .*\n?)+/m, `${servers.join('\n')}\n`)
  if (!replicaPorts.every((port) => cfg.includes(`127.0.0.1:${port} check`)))
    throw new Error(`${SHIPPED}: its server lines could not be replaced`)
  return cfg
}
