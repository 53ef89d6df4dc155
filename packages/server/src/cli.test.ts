import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'

// The built CLI, as `npx @ws/server` runs it (the test suite builds before testing).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

describe('ws-server CLI', () => {
  // The built CLI is what users run: built here when missing, never skipped.
  beforeAll(() => {
    if (!existsSync(CLI)) execFileSync('pnpm', ['--filter', '@ws/server', 'build'], { stdio: 'ignore' })
  }, 300_000)

  it('prints help, and rejects bad flags with a one-line message and exit code 2', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: ws-server')
    expect(help.stdout).toContain('WHISPER_BACKEND')
    expect(help.stdout).toContain('--revise-beam-size')
    const bad = spawnSync(process.execPath, [CLI, '--port', 'eighty'], { encoding: 'utf8' })
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/--port must be a number/)
    const beam = spawnSync(process.execPath, [CLI, '--revise-beam-size', '0'], { encoding: 'utf8' })
    expect(beam.status).toBe(2)
    expect(beam.stderr).toMatch(/reviseBeamSize/)
    // whisper.cpp decodes at most 8 candidates: a wider beam is refused at the start, not on every call.
    const wide = spawnSync(process.execPath, [CLI, '--beam-size', '9'], { encoding: 'utf8' })
    expect(wide.status).toBe(2)
    expect(wide.stderr).toMatch(/beamSize must be an integer from 1 to 8/)
    const unknown = spawnSync(process.execPath, [CLI, '--colour'], { encoding: 'utf8' })
    expect(unknown.status).toBe(2)
    const env = spawnSync(process.execPath, [CLI], {
      encoding: 'utf8',
      env: { ...process.env, WHISPER_BACKEND: 'nope' },
    })
    expect(env.status).toBe(2)
    expect(env.stderr).toMatch(/backend must be one of whispercpp, faster/)
  })

  it('starts on the defaults, prints its endpoints, serves /health and the page, and stops on SIGTERM', async () => {
    // The default log level, as `npm start` runs it.
    const { LOG_LEVEL: _level, ...env } = process.env
    const child = spawn(process.execPath, [CLI, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    // A failed expectation must not leave the server running: it is stopped whatever happens.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let stderr = ''
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    const base = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        const match = /demo page\s+(http:\/\/\S+)\//.exec(stderr)
        if (match) resolve(match[1]!)
      })
      child.on('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)))
    })
    expect(stderr).toMatch(/ws:\/\/\S+\/ws\/transcribe\/\{prompt\|context\|hybrid\|agreement\}/)
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' })
    expect(await (await fetch(`${base}/`)).text()).toContain('<title>whisper-stream demo</title>')
    // A transcription loads and runs whisper.cpp; none of its log lines reach stderr.
    const form = new FormData()
    const wav = readFileSync(
      fileURLToPath(new URL('../../../fixtures/speech/harvard-01.wav', import.meta.url)),
    )
    form.set('file', new Blob([wav], { type: 'audio/wav' }), 'speech.wav')
    const reply = await fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body: form })
    expect(((await reply.json()) as { text: string }).text.toLowerCase()).toContain('smooth')
    expect(stderr).not.toMatch(/whisper_|ggml_|load_backend/)
    // The start-up speed check: tiny.en keeps up here, said at info level and in /metrics.
    const logs = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) => JSON.parse(l) as { level: number; msg: string; realTimeFactor?: number; finalsLoad?: number },
      )
    const speed = logs.find((l) => l.realTimeFactor !== undefined)
    expect(speed!.realTimeFactor).toBeGreaterThan(0)
    // Whether it keeps up is this machine's speed at this moment (a loaded machine is slower):
    // the level and message follow the load measured — info while one session's finals fit
    // under maxLoad (0.8), else a warning naming what to choose. No bound on the time itself.
    if (speed!.finalsLoad! <= 0.8)
      expect(speed).toMatchObject({ level: 30, msg: 'speed check: the model keeps up with live sessions' })
    else expect(speed).toMatchObject({ level: 40, msg: expect.stringMatching(/finals will fall behind/) })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(Number(/^ws_model_realtime_factor (\S+)/m.exec(metrics)?.[1])).toBeCloseTo(
      speed!.realTimeFactor!,
      2,
    )
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 120_000)
})
