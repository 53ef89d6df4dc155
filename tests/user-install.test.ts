import { execFile } from 'node:child_process'
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { concatFloat32, readWavMono, wordErrorRate, writeWav } from '@ws/core'
import { resolveGgmlModel } from '@ws/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_PACKAGES, packTarballs } from '../bench/install.mjs'
import {
  addPackages,
  createUserProject,
  runBin,
  runnableSamples,
  startServer,
} from '../bench/user-project.mjs'
import { makeTestCertificates } from '../packages/server/src/protocols/sdk-clients/support.mjs'

// The whole product installed as a user would (bench/user-project.mjs): every package packed,
// then an empty project with npm and with pnpm at default settings. First the server and the
// client alone (whisper.cpp + WebRTC VAD, the defaults), then the optional engines
// (faster-whisper + Silero), then what the READMEs' samples and a TypeScript consumer use.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FIXTURES = join(ROOT, 'fixtures/speech')
const run = promisify(execFile)
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  name: string
  text: string
}[]
const SENTENCES = manifest.filter((f) => /^harvard-0[1-3]$/.test(f.name))
const REFERENCE = SENTENCES.map((f) => f.text).join(' ')

let packed: { dir: string; tarballs: Record<string, string> }
beforeAll(async () => {
  packed = await packTarballs(ALL_PACKAGES)
}, 600_000)
afterAll(() => packed && rmSync(packed.dir, { recursive: true, force: true }))

/** Three sentences with 0.8 s pauses, as speech.wav: the file the READMEs' samples read. */
function writeSpeech(dir: string) {
  const gap = new Float32Array(12_800)
  const parts = SENTENCES.flatMap((f) => [
    readWavMono(readFileSync(join(FIXTURES, `${f.name}.wav`))).samples,
    gap,
  ])
  writeFileSync(join(dir, 'speech.wav'), writeWav(concatFloat32(parts), 16_000))
}

describe.each(['npm', 'pnpm'] as const)('a user project installed with %s', (manager) => {
  let project: ReturnType<typeof createUserProject>
  let server: Awaited<ReturnType<typeof startServer>> | undefined
  // The same server on TLS (a test CA), for the samples of clients that only speak wss://.
  let tlsServer: Awaited<ReturnType<typeof startServer>> | undefined
  let tls: ReturnType<typeof makeTestCertificates> | undefined
  const sizes: Record<string, { seconds: number; bytes: number }> = {}
  beforeAll(async () => {
    project = createUserProject(manager, packed.tarballs)
    writeSpeech(project.dir)
    const ggml = await resolveGgmlModel('tiny.en', { offline: true })
    copyFileSync(ggml.file, join(project.dir, 'ggml-tiny.en.bin'))
    sizes.defaults = await addPackages(project, { '@ws/server': '', '@ws/client': '' })
  }, 600_000)
  afterAll(async () => {
    await server?.stop()
    await tlsServer?.stop()
    if (tls) rmSync(tls.dir, { recursive: true, force: true })
    if (project) rmSync(project.dir, { recursive: true, force: true })
    const mb = (b: number) => (b / 1e6).toFixed(0)
    for (const [k, v] of Object.entries(sizes))
      console.log(`${manager} ${k}: ${v.seconds.toFixed(1)} s, node_modules ${mb(v.bytes)} MB`)
  })

  it('names the package a chosen engine needs, in one line, when it is not installed', async () => {
    for (const [flag, pkg] of [
      ['--backend=faster', '@ws/backend-faster'],
      ['--vad=silero', '@ws/vad-silero'],
    ] as const) {
      const r = await runBin(project, 'ws-server', [flag, '--port', '0'])
      expect(r.code).toBe(1)
      const lines = r.stderr.trim().split('\n')
      expect(lines.at(-1)).toContain(`needs ${pkg}, which is not installed: npm install ${pkg}`)
      expect(lines.filter((l) => l.startsWith('ws-server:'))).toHaveLength(1)
    }
  }, 120_000)

  it('starts ws-server on the default engine and transcribes with ws-transcribe --json', async () => {
    server = await startServer(project)
    expect(server.stderr()).toContain('server ready (whisper.cpp, tiny.en, VAD webrtc)')
    const r = await runBin(project, 'ws-transcribe', [
      'speech.wav',
      '--json',
      '--url',
      `ws://127.0.0.1:${server.port}`,
    ])
    // Nothing on stderr but the package manager's own warnings (this machine's npm config).
    expect(r.stderr.split('\n').filter((l) => l && !/^npm warn /i.test(l))).toEqual([])
    expect(r.code).toBe(0)
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const text = events
      .filter((e) => e.type === 'final')
      .map((e) => e.text)
      .join(' ')
    console.log(`${manager} ws-transcribe: ${text}`)
    // Greedy tiny.en on this synthetic voice is poor: 9 errors in 26 words (34.6 %), the same
    // with npm and pnpm ("The birch can move slayed on the smooth plagues. Blue machine turn
    // the dark blue background. It is easy to tell the depths of a well."). Empty or wrong
    // audio is near 100 %.
    expect(wordErrorRate(REFERENCE, text).wer).toBeLessThan(0.45)
    expect(text).toContain('depths of a well')
  }, 300_000)

  it('adds faster-whisper and Silero, and the packages the READMEs import', async () => {
    // @ws/core with them, as their READMEs say: it is their peer (pnpm would fetch it otherwise).
    sizes.engines = await addPackages(project, {
      '@ws/backend-faster': '',
      '@ws/vad-silero': '',
      '@ws/core': '',
    })
    // What the READMEs' samples import, and a TypeScript consumer's tools.
    const rest = Object.keys(packed.tarballs).filter((n) => !n.includes('addon-linux'))
    sizes.everything = await addPackages(project, {
      ...Object.fromEntries(rest.map((n) => [n, ''])),
      openai: '^7',
      '@deepgram/sdk': '^5',
      // @ws/voice's local chat model (an optional peer) and the WebSocket client of its README.
      'node-llama-cpp': '3.22.1',
      ws: '^8.18.3',
      typescript: '~5.9.3',
      '@types/node': '^20.19.0',
    })
  }, 600_000)

  it('answers the openai client at /v1/audio/transcriptions', async () => {
    expect(server).toBeDefined()
    writeFileSync(
      join(project.dir, 'openai-client.mjs'),
      `import { createReadStream } from 'node:fs'
import OpenAI from 'openai'
const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'unused' })
const r = await client.audio.transcriptions.create({ file: createReadStream('speech.wav'), model: 'whisper-1', response_format: 'verbose_json' })
console.log(JSON.stringify({ text: r.text, segments: r.segments?.length }))
`,
    )
    const { stdout } = await run(
      process.execPath,
      ['openai-client.mjs', `http://127.0.0.1:${server!.port}/v1`],
      {
        cwd: project.dir,
        env: project.env,
      },
    )
    const r = JSON.parse(stdout) as { text: string; segments: number }
    console.log(`${manager} openai: ${r.text}`)
    // The whole file at once: 7 errors in 26 words (26.9 %) with npm and pnpm.
    expect(wordErrorRate(REFERENCE, r.text).wer).toBeLessThan(0.45)
    expect(r.text).toContain('depths of a well')
    expect(r.segments).toBeGreaterThan(0)
  }, 120_000)

  // The samples run once, under npm: what pnpm's strict layout would catch in them (a package
  // importing what it does not declare) is checked on every module of every package by
  // tests/package-files.test.ts, and pnpm runs the server, the client and the types here.
  const readmes = (manager === 'npm' ? readdirSync(join(ROOT, 'packages')) : [])
    .map((d) => join('packages', d, 'README.md'))
    .filter((f) => {
      try {
        return runnableSamples(readFileSync(join(ROOT, f), 'utf8')).length > 0
      } catch {
        return false
      }
    })
  it.each(readmes)(
    'runs the samples of %s as written',
    async (readme) => {
      expect(server).toBeDefined()
      // What the samples expect in the working directory: speech.wav and ggml-tiny.en.bin (put
      // there once, in beforeAll), a server at 127.0.0.1:8765 (the one started above), and for
      // the drop-in clients the server on TLS at 127.0.0.1:8443, its CA trusted as the README
      // says (NODE_EXTRA_CA_CERTS).
      const text = readFileSync(join(ROOT, readme), 'utf8')
      const samples = runnableSamples(text)
      if (!tlsServer && samples.some((code) => code.includes('127.0.0.1:8443'))) {
        tls = makeTestCertificates()
        tlsServer = await startServer(project, ['--tls-cert', tls.cert, '--tls-key', tls.key])
      }
      const env = tls ? { ...project.env, NODE_EXTRA_CA_CERTS: tls.ca } : project.env
      // A README that says to build whisper.cpp's tools first (its sh block): as a user would.
      if (text.includes('npx ws-whispercpp tools'))
        await run(
          process.execPath,
          [join(project.dir, 'node_modules/@ws/whispercpp-addon/dist/cli.js'), 'tools'],
          {
            cwd: project.dir,
            env: project.env,
            timeout: 900_000,
          },
        )
      for (const [i, code] of samples.entries()) {
        const file = join(project.dir, `sample-${i}.mjs`)
        writeFileSync(
          file,
          code
            .replaceAll('127.0.0.1:8765', `127.0.0.1:${server!.port}`)
            .replaceAll('127.0.0.1:8443', `127.0.0.1:${tlsServer?.port}`),
        )
        const r = await run(process.execPath, [file], {
          cwd: project.dir,
          env,
          timeout: 180_000,
        }).catch((err) => {
          throw new Error(`${readme} sample ${i + 1} failed:\n${err.stdout}\n${err.stderr}`)
        })
        expect(r.stdout.length, `${readme} sample ${i + 1} printed nothing`).toBeGreaterThan(0)
      }
    },
    600_000,
  )

  it('type-checks a consumer under --strict without skipLibCheck, node16 and bundler resolution', async () => {
    const consumer = readFileSync(join(ROOT, 'tests/consumer/consumer.ts'), 'utf8')
    writeFileSync(join(project.dir, 'consumer.ts'), consumer)
    writeFileSync(
      join(project.dir, 'consumer.cts'),
      readFileSync(join(ROOT, 'tests/consumer/consumer.cts'), 'utf8'),
    )
    const tsc = join(project.dir, 'node_modules/typescript/bin/tsc')
    const common = ['--noEmit', '--strict', '--target', 'es2022', '--types', 'node']
    for (const [label, args] of [
      ['node16', ['--module', 'node16', '--moduleResolution', 'node16', 'consumer.ts', 'consumer.cts']],
      ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler', 'consumer.ts']],
    ] as const) {
      await run(process.execPath, [tsc, ...common, ...args], { cwd: project.dir, env: project.env }).catch(
        (err) => {
          throw new Error(`tsc (${label}) failed:\n${err.stdout}\n${err.stderr}`)
        },
      )
    }
  }, 120_000)
})
