import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeWav } from '@ws/core'
import { freePort, loadSpeechFixtures } from '@ws/core/testing'
import { optionsFromEnv } from '@ws/server'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { haproxyBinary } from '../bench/haproxy.mjs'

// deploy/: no container engine runs here, so the image's own steps are run as its Dockerfile
// says (pnpm deploy of @ws/server, the model fetched at build time, the final stage's ENV and
// CMD, offline), and the compose and Kubernetes files are checked against the server they
// configure. HAProxy checks its configuration itself; tests/scale-out.test.ts runs it.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEPLOY = join(ROOT, 'deploy')
const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'))
const kube = readFileSync(join(DEPLOY, 'kubernetes/whisper-stream.yaml'), 'utf8')
  .split(/^---$/m)
  .map((doc) => parse(doc))
const [harvard] = loadSpeechFixtures(join(ROOT, 'fixtures/speech'), (f) => f.name === 'harvard-01')

/** The Dockerfile's instructions, continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.trim().split(/\s+/)
    return { op: op!.toUpperCase(), args: rest.join(' ') }
  })

function finalStage() {
  const from = instructions.map((i) => i.op).lastIndexOf('FROM')
  return instructions.slice(from)
}

function envOf(stage: { op: string; args: string }[], args: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const i of stage.filter((i) => i.op === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[m[1]!] = m[2]!.replace(/^"|"$/g, '').replace(/\$(\w+)/g, (_, name: string) => args[name] ?? '')
    }
  }
  return env
}

const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('deploy/', () => {
  it("the image's steps give a server that starts offline on the model fetched at build time, and drains on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-image-'))
    dirs.push(dir)
    const app = join(dir, 'app')
    const models = join(dir, 'models')
    const run = instructions.filter((i) => i.op === 'RUN').map((i) => i.args)
    const deploy = run.find((r) => r.includes(' deploy '))!
    const flags = /pnpm --filter @ws\/server deploy (.*) \/app/.exec(deploy)?.[1]?.split(' ')
    expect(flags, deploy).toBeDefined()
    execFileSync('pnpm', ['--filter', '@ws/server', 'deploy', ...flags!, app], { cwd: ROOT, stdio: 'ignore' })
    const model = /ARG WHISPER_MODEL=(\S+)/.exec(dockerfile)![1]!
    const fetch_ = run.find((r) => r.includes('models/dist/cli.js fetch'))!
    expect(fetch_).toContain('--format ggml')
    execFileSync(
      process.execPath,
      [join(app, 'node_modules/@ws/models/dist/cli.js'), 'fetch', '--format', 'ggml', model],
      {
        env: { ...process.env, WS_CACHE_DIR: models },
        stdio: 'ignore',
      },
    )

    const stage = finalStage()
    const env = envOf(stage, { WHISPER_MODEL: model })
    expect(env.WS_CACHE_DIR).toBe('/models')
    const cmd = JSON.parse(stage.find((i) => i.op === 'CMD')!.args) as string[]
    expect(cmd).toContain('--offline')
    const port = await freePort()
    const child = spawn(
      process.execPath,
      cmd.slice(1).map((a) => a.replace(/^\/app\//, `${app}/`)),
      {
        // The image's environment, with this machine's paths and a free port; no network
        // needed at start (--offline): the model must be the one fetched above.
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          ...env,
          WS_CACHE_DIR: models,
          HOST: '127.0.0.1',
          PORT: String(port),
          DRAIN_DELAY_MS: '1500',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    children.push(child)
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const base = `http://127.0.0.1:${port}`
    for (
      let i = 0;
      !(await fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    ) {
      if (i > 600 || child.exitCode !== null) throw new Error('the server did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ model })
    const form = new FormData()
    form.set('file', new Blob([writeWav(harvard!.audio, 16_000)]), 'a.wav')
    const heard = (await (
      await fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body: form })
    ).json()) as {
      text: string
    }
    // The espeak sentence "The birch canoe slid on the smooth planks." (whole clips decode at
    // whisper.cpp's full window, which reads this synthetic voice less well than real speech).
    expect(heard.text.toLowerCase()).toMatch(/smooth/)

    child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    const draining = await fetch(`${base}/ready`)
    expect(draining.status).toBe(503)
    expect(await draining.json()).toMatchObject({ status: 'draining' })
    expect(await exited).toBe(0)
  }, 600_000)

  it('compose: every variable is one the server reads; a stop outlasts the drain and the grace', () => {
    const replicas = Object.entries(
      compose.services as Record<
        string,
        { environment?: Record<string, string>; stop_grace_period?: string }
      >,
    )
      .filter(([name]) => name.startsWith('replica-'))
      .map(([, s]) => s)
    expect(replicas.length).toBeGreaterThanOrEqual(2)
    const haproxyCfg = readFileSync(join(DEPLOY, 'haproxy/haproxy.cfg'), 'utf8')
    for (const [name] of Object.entries(compose.services).filter(([n]) => n.startsWith('replica-')))
      expect(haproxyCfg).toContain(`server ${name} ${name}:8765 check`)
    for (const r of replicas) {
      const env = { ...r.environment }
      delete env.LOG_LEVEL
      const options = optionsFromEnv(env)
      expect(Object.keys(options).length).toBe(Object.keys(env).length)
      const graceS = Number.parseInt(r.stop_grace_period ?? '10', 10)
      expect(graceS * 1000).toBeGreaterThan((options.drainDelayMs ?? 0) + 10_000)
    }
  })

  it('kubernetes: readiness on /ready, liveness on /health, preStop before the drain, time for both', () => {
    const deployment = kube.find((d) => d.kind === 'Deployment')
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    expect(container.readinessProbe.httpGet.path).toBe('/ready')
    expect(container.livenessProbe.httpGet.path).toBe('/health')
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    )
    const options = optionsFromEnv(env)
    expect(Object.keys(options).length).toBe(Object.keys(env).length)
    const preStopS = Number(container.lifecycle.preStop.exec.command.at(-1))
    expect(preStopS).toBeGreaterThan(container.readinessProbe.periodSeconds)
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      preStopS * 1000 + (options.drainDelayMs ?? 0) + 10_000,
    )
    expect(kube.find((d) => d.kind === 'Service').spec.selector).toEqual(deployment.spec.selector.matchLabels)
  })

  it('haproxy.cfg is valid for HAProxy itself', () => {
    const haproxy = haproxyBinary()
    expect(haproxy, 'HAProxy is installed (scripts/setup.sh, WS_SETUP_SCALE)').toBeDefined()
    // Exit 0: valid (the replica names resolve only inside compose; HAProxy starts without them).
    execFileSync(haproxy!, ['-c', '-f', join(DEPLOY, 'haproxy/haproxy.cfg')], { stdio: 'ignore' })
  })
})
