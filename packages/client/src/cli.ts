#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { isStrategyName, isWsError, STRATEGY_NAMES, WsError } from '@ws/core'
import { EXIT_CODES as EXIT, packageVersion, runCli, UsageError } from '@ws/core/node'
import { OUTPUT_FORMATS, type OutputFormat, parseSpeakerArg, runFileCommand } from './cli-file.js'
import { ClientVad } from './client-vad.js'
import { connect } from './node-session.js'
import { type ClientEvent, DEFAULT_STRATEGY } from './options.js'
import { MAX_SPEAKERS } from './rest.js'
import { microphone, readAudio, streamAudio } from './sources.js'
import { speakerText } from './speaker-format.js'
import { TranscriptPrinter } from './transcript-printer.js'

const HELP = `Usage: ws-transcribe <file|-> [options]
       ws-transcribe --mic [options]

Streams audio to a whisper-stream server and prints the transcript. WAV files are read
directly (any rate); other formats need ffmpeg on the PATH. "-" reads the file from stdin.

Options:
  --url <url>          the server (default ws://127.0.0.1:8765, or $WS_SERVER_URL)
  --strategy <name>    ${STRATEGY_NAMES.join(', ')} (default ${DEFAULT_STRATEGY})
  --realtime           send audio at real-time pace (default: as fast as the server reads)
  --mic                record from the microphone (sox, arecord or ffmpeg) until Ctrl-C
  --json               print every event as a JSON line
  --language <code>    the spoken language (default: the model's)
  --token <secret>     the server's token (or $WS_AUTH_TOKEN)
  --vad <name>         end utterances on the client: webrtc or silero (default: the server's VAD)
  --reconnect          reconnect when the connection is lost
  --no-revisions       no revisions: finals are the transcript (printed at once even
                       into a pipe; with revisions, a pipe gets each line once settled)

Speakers (who said what):
  --diarize            a file is sent whole (REST) and printed as speaker turns,
                       "[A] 0.00–2.31  Hello there."; with --mic or --realtime it is
                       streamed and each final is printed by speaker, "[A] Hello there."
  --format <f>         a file's output: text (default), srt or vtt (with --diarize, cues
                       tagged "[A] " in SRT, "<v A>" in VTT); sends the file whole (REST)
  --num-speakers <n>   how many speakers there are, when known (1-${MAX_SPEAKERS}; a file)
  --min-speakers <n>   at least this many (1-${MAX_SPEAKERS}; a file)
  --max-speakers <n>   at most this many (1-${MAX_SPEAKERS}; a file)
  --speaker <name=f>   name a speaker from a short clip of them alone (repeatable; a file)
                       The speaker options imply --diarize.
  -h, --help           show this help
  -v, --version        show the version

Exit codes: 0 done, 1 unexpected failure, 2 bad arguments, 3 cannot connect or connection
lost, 4 the server reported an error.`

function usage(message: string): never {
  throw new UsageError(message)
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse()
  } catch (err) {
    usage((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help || values.version) {
    process.stdout.write(
      `${values.help ? HELP : packageVersion(new URL('../package.json', import.meta.url))}\n`,
    )
    return EXIT.ok
  }
  if (!values.mic && positionals.length !== 1) usage('give one file (or - for stdin), or --mic')
  if (values.mic && positionals.length > 0) usage('give a file or --mic, not both')
  const strategy = values.strategy ?? DEFAULT_STRATEGY
  if (!isStrategyName(strategy)) usage(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}`)
  if (values.vad && values.vad !== 'webrtc' && values.vad !== 'silero')
    usage('--vad must be webrtc or silero')
  const url = values.url ?? process.env.WS_SERVER_URL ?? 'ws://127.0.0.1:8765'
  if (!/^(wss?|https?):\/\//.test(url))
    usage(`--url must start with ws://, wss://, http:// or https://, got "${url}"`)
  const format = (values.format ?? 'text') as OutputFormat
  if (!OUTPUT_FORMATS.includes(format)) usage(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`)
  const numSpeakers = speakerCount('num-speakers', values['num-speakers'])
  const minSpeakers = speakerCount('min-speakers', values['min-speakers'])
  const maxSpeakers = speakerCount('max-speakers', values['max-speakers'])
  if (minSpeakers !== undefined && maxSpeakers !== undefined && minSpeakers > maxSpeakers)
    usage('--min-speakers must not be above --max-speakers')
  const speakers = (values.speaker ?? []).map(parseSpeakerArg)
  const hinted =
    numSpeakers !== undefined || minSpeakers !== undefined || maxSpeakers !== undefined || speakers.length > 0
  const diarize = Boolean(values.diarize) || hinted
  const live = Boolean(values.mic || values.realtime)
  if (live && format !== 'text')
    usage('--format srt|vtt takes a file sent whole: not with --mic or --realtime')
  if (live && hinted)
    usage('speaker hints and --speaker take a file sent whole: not with --mic or --realtime')
  const token = values.token ?? process.env.WS_AUTH_TOKEN

  // A file to diarize or to subtitle goes whole through the REST API.
  if (!live && (diarize || format !== 'text')) {
    const file = positionals[0]!
    return runFileCommand(
      {
        url,
        input: file === '-' ? await readStdin() : file,
        token,
        language: values.language,
        diarize,
        format,
        json: Boolean(values.json),
        numSpeakers,
        minSpeakers,
        maxSpeakers,
        speakers,
      },
      { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
    )
  }

  // The source first: a missing file is a usage error, before any connection.
  let audio: Float32Array | undefined
  if (!values.mic) {
    const file = positionals[0]!
    try {
      audio = await readAudio(file === '-' ? await readStdin() : file)
    } catch (err) {
      usage(isWsError(err) ? err.message : String(err))
    }
  }
  const vad = values.vad ? await ClientVad.create(values.vad as 'webrtc' | 'silero') : undefined
  const session = connect(url, {
    strategy,
    ...(token ? { token } : {}),
    ...(values.language ? { language: values.language } : {}),
    ...(vad ? { vad: 'client' as const } : {}),
    ...(values.reconnect ? { reconnect: true } : {}),
    ...(values['no-revisions'] ? { revisions: false } : {}),
    ...(diarize ? { diarize: true } : {}),
  })
  const abort = new AbortController()
  process.once('SIGINT', () => {
    abort.abort()
    void session.end()
  })

  const tty = process.stdout.isTTY && !values.json
  const printer = new TranscriptPrinter({
    write: (text) => process.stdout.write(text),
    tty: Boolean(tty),
    columns: process.stdout.columns ?? 80,
    waitForRevisions: !values['no-revisions'],
  })
  const sentAt: { seconds: number; at: number }[] = []
  const latencies: number[] = []
  const serverMs: number[] = []
  let serverError: WsError | undefined
  let partialShown = false
  const clearPartial = () => {
    if (partialShown) process.stdout.write('\r\x1b[K')
    partialShown = false
  }

  const reader = (async () => {
    for await (const event of session as AsyncIterable<ClientEvent>) {
      if (values.json) process.stdout.write(`${JSON.stringify(event)}\n`)
      switch (event.type) {
        case 'partial':
          if (tty) {
            const text = event.stable
              ? `${event.stable} \x1b[2m${event.unstable}\x1b[0m`
              : `\x1b[2m${event.unstable}\x1b[0m`
            process.stdout.write(`\r\x1b[K${text.slice(0, (process.stdout.columns ?? 120) + 20)}`)
            partialShown = true
          }
          break
        case 'final': {
          serverMs.push(event.processing_time_ms)
          const sent = sentAt.find((s) => s.seconds >= event.audio_end - 1e-6)
          if (sent) latencies.push(performance.now() - sent.at)
          if (!values.json) {
            clearPartial()
            printer.final(event.utterance_id, diarize ? speakerText(event.segments, event.text) : event.text)
          }
          break
        }
        case 'revision':
          if (!values.json) {
            clearPartial()
            printer.revision(
              event.utterance_ids,
              diarize ? speakerText(event.segments, event.text) : event.text,
            )
          }
          break
        case 'error':
          serverError = new WsError(event.code, event.message)
          if (!values.json) {
            clearPartial()
            process.stderr.write(`server error ${event.code}: ${event.message}\n`)
          }
          break
        case 'reconnected':
          if (!values.json)
            process.stderr.write(
              event.lost.end > event.lost.start
                ? `reconnected; audio from ${event.lost.start.toFixed(2)} s to ${event.lost.end.toFixed(2)} s was not transcribed\n`
                : `reconnected; nothing lost (${event.replayed.toFixed(2)} s sent again)\n`,
            )
          break
      }
    }
  })()

  try {
    await session.ready
    if (audio) {
      await streamAudio(session, audio, {
        realtime: values.realtime ?? false,
        signal: abort.signal,
        onFrame: () => {
          sentAt.push({ seconds: session.audioSeconds, at: performance.now() })
        },
        ...(vad
          ? {
              afterFrame: async (frame: Float32Array) => {
                if ((await vad.push(frame)) > 0 && !session.closed) session.endUtterance()
              },
            }
          : {}),
      })
      sentAt.push({ seconds: session.audioSeconds, at: performance.now() })
    } else {
      for await (const chunk of microphone({ signal: abort.signal })) {
        if (session.closed) break
        session.sendAudio(chunk)
        sentAt.push({ seconds: session.audioSeconds, at: performance.now() })
        if (vad) {
          const floats = new Float32Array(chunk.length)
          for (let i = 0; i < chunk.length; i++) floats[i] = chunk[i]! / 32768
          if ((await vad.push(floats)) > 0 && !session.closed) session.endUtterance()
        }
      }
    }
    if (!session.closed) await session.end()
    await reader
  } catch (err) {
    await session.close()
    await reader.catch(() => {})
    clearPartial()
    // What the server transcribed before the failure is printed all the same.
    if (!values.json) printer.end()
    const error = isWsError(err) ? err : new WsError('internal_error', String(err))
    process.stderr.write(`ws-transcribe: ${error.code}: ${error.message}\n`)
    return error.code === 'connection_failed'
      ? EXIT.connection
      : error.code === 'internal_error'
        ? EXIT.failure
        : EXIT.server
  } finally {
    await vad?.close()
  }
  clearPartial()
  if (!values.json) {
    printer.end()
    const mean = serverMs.reduce((a, b) => a + b, 0) / Math.max(1, serverMs.length)
    process.stderr.write(
      `finals: ${serverMs.length}, mean server time ${mean.toFixed(0)} ms, final latency p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms\n`,
    )
  }
  return serverError ? EXIT.server : EXIT.ok
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function speakerCount(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_SPEAKERS)
    usage(`--${name} must be an integer from 1 to ${MAX_SPEAKERS}, got "${value}"`)
  return n
}

function parse() {
  return parseArgs({
    options: {
      url: { type: 'string' },
      strategy: { type: 'string' },
      realtime: { type: 'boolean' },
      mic: { type: 'boolean' },
      json: { type: 'boolean' },
      language: { type: 'string' },
      token: { type: 'string' },
      vad: { type: 'string' },
      reconnect: { type: 'boolean' },
      'no-revisions': { type: 'boolean' },
      diarize: { type: 'boolean' },
      format: { type: 'string' },
      'num-speakers': { type: 'string' },
      'min-speakers': { type: 'string' },
      'max-speakers': { type: 'string' },
      speaker: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    allowPositionals: true,
    strict: true,
  })
}

runCli('ws-transcribe', main)
