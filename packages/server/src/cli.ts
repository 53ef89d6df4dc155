#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { isWsError, STRATEGY_NAMES } from '@ws/core'
import { EXIT_CODES, packageVersion } from '@ws/core/node'
import { progressPrinter } from '@ws/models'
import { optionsFromEnv, parseOptionValue, type ServerOptions } from './options.js'
import { createServer } from './server.js'

const HELP = `Usage: ws-server [options]

Real-time Whisper transcription over WebSocket, with an OpenAI-compatible REST endpoint,
Prometheus metrics and a demo page. The model is provisioned on first run.

Options (each also read from the environment variable in brackets; flags win):
  --backend <name>             whispercpp (default), faster, or remote engines:
                               openai or whisper-server                [WHISPER_BACKEND]
  --backend-url <url>          the remote engines' URL (openai: up to /v1; whisper-server:
                               its root); a load balancer for a pool   [WHISPER_BACKEND_URL]
  --backend-concurrency <n>    requests in flight to them (4)   [WHISPER_BACKEND_CONCURRENCY]
                               (API key: WHISPER_BACKEND_API_KEY)
  --model <name|path>          model name or file/directory (tiny.en)  [WHISPER_MODEL]
  --vad <name>                 webrtc (default) or silero              [VAD_BACKEND]
  --host <address>             address to listen on (127.0.0.1)        [HOST]
  --port <n>                   port (8765; 0 picks a free one)         [PORT]
  --wyoming-port <n>           Wyoming speech-to-text over TCP for Home Assistant
                               (usually 10300; off by default)         [WYOMING_PORT]
  --partial-interval-ms <n>    audio between partials, 0 = none (500)  [PARTIAL_INTERVAL_MS]
  --max-clients <n>            sessions transcribing at once: audio takes a slot,
                               idle and keepalive-only sockets take none (4) [MAX_CLIENTS]
  --max-connections <n>        open WebSocket connections at once (1000) [MAX_CONNECTIONS]
  --no-audio-timeout-s <n>     no audio for n s gives the slot back; no audio and no
                               keepalive closes the socket, 0 = off (10) [NO_AUDIO_TIMEOUT_S]
  --max-file-seconds <n>       longest audio a REST call transcribes (7200) [MAX_FILE_SECONDS]
  --max-rest-jobs <n>          REST transcriptions at once; more get 429 (2) [MAX_REST_JOBS]
  --session-timeout-s <n>      longest session, 0 = none (3600)        [SESSION_TIMEOUT_S]
  --idle-timeout-s <n>         close silent connections, 0 = never (60) [IDLE_TIMEOUT_S]
  --max-utterance-s <n>        force a final after this long (25)      [MAX_UTTERANCE_S]
  --token <secret>             require this token from clients         [WS_AUTH_TOKEN]
  --tls-cert <file>            PEM certificate: serve https and wss on the port [WS_TLS_CERT]
  --tls-key <file>             its PEM private key                     [WS_TLS_KEY]
  --beam-size <n>              decoder beam size, 1–8 (1: greedy)      [WHISPER_BEAM_SIZE]
  --threads <n>                inference threads (all cores)           [WHISPER_THREADS]
  --speaker-threads <n>        diarization's speaker-model threads (1) [WS_SPEAKER_THREADS]
  --compute-type <type>        faster backend: int8 (default), int8_float32, int16 or
                               float32                            [WHISPER_COMPUTE_TYPE]
  --final-window <w>           finals' encoder window: auto (full, fitted for a final that
                               waited for another; whisper.cpp's default on tiny models),
                               full (30 s, as a file; faster's default) or fitted (to the
                               utterance: ~3× faster, less accurate; whisper.cpp's default
                               on base and larger)                  [WHISPER_FINAL_WINDOW]
  --min-final-window-ms <n>    whisper.cpp, auto: a final's shortest window; 15000 halves
                               its decode, less accurate; unsure finals go again on the
                               full window (30000: full)     [WHISPER_MIN_FINAL_WINDOW_MS]
  --no-speech-threshold <p>    drop text the model rates as no speech above p while
                               unsure of it, and text with no word ("♪♪"); off keeps
                               all (0.4)                     [WHISPER_NO_SPEECH_THRESHOLD]
  --max-load <x>               admission: finals' share of the backend (0.8)
  --speculative-final-ms <n>   compute a final ahead after this silence, 0 = off (60)
  --revise-max-ms <n>          decode finished utterances again in blocks of up to n ms
                               (revision messages), 0 = off (28000)
  --revise-beam-size <n>       revisions' decoder beam, 1–8 (5)
  --drain-delay-ms <n>         on SIGTERM, answer /ready with 503 for n ms (still taking
                               sessions) before stopping, for load balancers (0)
  --shutdown-grace-ms <n>      time open sessions get to finalise on shutdown (10000)
  --offline                    use only cached or offline model sources
  --no-demo                    do not serve the demo page
  --private-info               under --token, /metrics and /v1/models need it too
  -h, --help                   show this help
  -v, --version                show the version

Logs are JSON lines (pino) on stdout; LOG_LEVEL sets the level (info).
SIGTERM drains (see --drain-delay-ms), finalises open sessions and closes them with 1001.
Endpoints: ws://HOST:PORT/ws/transcribe/{${STRATEGY_NAMES.join('|')}}; drop-in OpenAI Realtime
(ws /v1/realtime) and Deepgram live (ws /v1/listen); POST /v1/audio/transcriptions,
/v1/audio/translations, /v1/listen; GET /health, /ready, /metrics, and the demo page at /;
Wyoming speech-to-text (Home Assistant) on tcp://HOST:WYOMING_PORT with --wyoming-port.
Exit codes: 0 stopped, 1 failure (could not start), 2 bad usage or option.`

const FLAGS = {
  backend: 'backend',
  model: 'model',
  vad: 'vad',
  host: 'host',
  port: 'port',
  'wyoming-port': 'wyomingPort',
  'partial-interval-ms': 'partialIntervalMs',
  'max-clients': 'maxClients',
  'max-connections': 'maxConnections',
  'no-audio-timeout-s': 'noAudioTimeoutS',
  'max-file-seconds': 'maxFileSeconds',
  'max-rest-jobs': 'maxRestJobs',
  'session-timeout-s': 'sessionTimeoutS',
  'idle-timeout-s': 'idleTimeoutS',
  'max-utterance-s': 'maxUtteranceS',
  token: 'authToken',
  'tls-cert': 'tlsCert',
  'tls-key': 'tlsKey',
  'beam-size': 'beamSize',
  threads: 'threads',
  'speaker-threads': 'speakerThreads',
  'compute-type': 'computeType',
  'final-window': 'finalWindow',
  'min-final-window-ms': 'minFinalWindowMs',
  'no-speech-threshold': 'noSpeechThreshold',
  'max-load': 'maxLoad',
  'speculative-final-ms': 'speculativeFinalMs',
  'revise-max-ms': 'reviseMaxMs',
  'revise-beam-size': 'reviseBeamSize',
  'drain-delay-ms': 'drainDelayMs',
  'backend-url': 'backendUrl',
  'backend-concurrency': 'backendConcurrency',
  'shutdown-grace-ms': 'shutdownGraceMs',
} as const satisfies Record<string, keyof ServerOptions>

function fail(message: string, code: number = EXIT_CODES.usage): never {
  process.stderr.write(`ws-server: ${message}\n`)
  process.exit(code)
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse()
  } catch (err) {
    fail(`${(err as Error).message} (see --help)`)
  }
  const { values } = parsed
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return
  }
  if (values.version) {
    process.stdout.write(`${packageVersion(new URL('../package.json', import.meta.url))}\n`)
    return
  }
  let options: ServerOptions
  try {
    options = optionsFromEnv()
    for (const [flag, key] of Object.entries(FLAGS)) {
      const value = values[flag as keyof typeof values]
      if (typeof value === 'string')
        (options as Record<string, unknown>)[key] = parseOptionValue(key, value, `--${flag}`)
    }
    if (values.offline) options.offline = true
    if (values['no-demo']) options.demo = false
    if (values['private-info']) options.publicInfo = false
  } catch (err) {
    fail(isWsError(err) ? err.message : String(err))
  }
  const printProgress = progressPrinter(process.stderr)
  let server: ReturnType<typeof createServer>
  try {
    server = createServer({ ...options, onProgress: printProgress })
  } catch (err) {
    fail(isWsError(err) ? err.message : String(err))
  }
  process.stderr.write(
    `Loading ${server.options.model} on ${typeof server.options.backend === 'string' ? server.options.backend : 'a custom backend'}…\n`,
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`)
      process.exit(1)
    }
    stopping = true
    // SIGTERM (an orchestrator or load balancer stopping a replica) drains first; Ctrl-C does not.
    const drainDelayMs = signal === 'SIGTERM' ? server.options.drainDelayMs : 0
    process.stderr.write(
      `${signal}: ${drainDelayMs > 0 ? `draining for ${drainDelayMs} ms, ` : ''}finishing open sessions, then stopping\n`,
    )
    server.close({ drainDelayMs }).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  try {
    await server.listen()
  } catch (err) {
    const message = isWsError(err) ? `${err.code}: ${err.message}` : (err as Error).message
    fail(`could not start: ${message}`, EXIT_CODES.failure)
  }
  const base = server.url
  const ws = base.replace(/^http/, 'ws')
  const wyoming = server.wyomingAddress()
  const lines = [
    `whisper-stream server ready (${server.engine?.backendName}, ${server.options.model}, VAD ${server.engine?.vadName})`,
    server.options.demo ? `  demo page      ${base}/` : '',
    `  streaming      ${ws}/ws/transcribe/{${STRATEGY_NAMES.join('|')}}`,
    `  OpenAI Realtime ${ws}/v1/realtime   Deepgram live ${ws}/v1/listen`,
    `  REST           POST ${base}/v1/audio/transcriptions  /v1/audio/translations  /v1/listen`,
    `  health         ${base}/health  ${base}/ready  ${base}/metrics`,
    wyoming ? `  Wyoming        tcp://${wyoming.address}:${wyoming.port} (Home Assistant)` : '',
  ].filter(Boolean)
  process.stderr.write(`${lines.join('\n')}\n`)
}

function parse() {
  return parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      offline: { type: 'boolean' },
      'no-demo': { type: 'boolean' },
      'private-info': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    allowPositionals: false,
    strict: true,
  })
}

main().catch((err) => fail(String(err), EXIT_CODES.failure))
