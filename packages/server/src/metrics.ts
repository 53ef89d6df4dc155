import { INFERENCE_ACCOUNTS, type InferenceKindStats, type InferenceScheduler } from '@ws/core'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

const LATENCY_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30]

/** What the gauges read from the server when scraped. */
export interface MetricSources {
  /** Sessions holding a slot. */
  slots: () => number
  /** Open connections; `closingSince` is set while one is being released. */
  connections: () => Iterable<{ closingSince: number | undefined }>
  /** The start-up speed check's real-time factor (backend seconds per audio second), if run. */
  realTimeFactor?: () => number | undefined
}

/** The server's Prometheus metrics, in a registry of its own (several servers may share a process). */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly sessionsTotal: Counter<'strategy'>
  readonly refusals: Counter<'reason'>
  readonly audioSeconds: Counter
  readonly transcriptionSeconds: Histogram<'kind'>
  readonly finalLatencySeconds: Histogram
  readonly partialsSkipped: Counter
  readonly readsPaused: Counter
  readonly errors: Counter<'code'>
  readonly restRequests: Counter<'status'>

  constructor(
    scheduler: InferenceScheduler,
    sources: MetricSources = { slots: () => 0, connections: () => [] },
  ) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'ws_' })
    new Gauge({
      name: 'ws_sessions_active',
      help: 'Sessions transcribing: holding a slot (they sent audio and did not go quiet)',
      registers,
      collect() {
        this.set(sources.slots())
      },
    })
    new Gauge({
      name: 'ws_model_realtime_factor',
      help: "Backend seconds per second of audio of a live final of silence, measured at start (a local engine's speed on this machine)",
      registers,
      collect() {
        const rtf = sources.realTimeFactor?.()
        if (rtf !== undefined) this.set(rtf)
      },
    })
    new Gauge({
      name: 'ws_connections_open',
      help: 'Open connections (WebSocket and Wyoming), transcribing or not',
      registers,
      collect() {
        let n = 0
        for (const _ of sources.connections()) n++
        this.set(n)
      },
    })
    new Gauge({
      name: 'ws_sessions_closing',
      help: 'Connections whose session is being stopped after their socket closed (should be 0 within closeTimeoutMs)',
      registers,
      collect() {
        let n = 0
        for (const c of sources.connections()) if (c.closingSince !== undefined) n++
        this.set(n)
      },
    })
    new Gauge({
      name: 'ws_sessions_closing_oldest_seconds',
      help: 'How long the oldest closing session has been closing (0 when none): a stuck close shows here',
      registers,
      collect() {
        let oldest: number | undefined
        for (const c of sources.connections())
          if (c.closingSince !== undefined) oldest = Math.min(oldest ?? Infinity, c.closingSince)
        this.set(oldest === undefined ? 0 : (performance.now() - oldest) / 1000)
      },
    })
    this.sessionsTotal = new Counter({
      name: 'ws_sessions_total',
      help: 'Streaming sessions started',
      labelNames: ['strategy'],
      registers,
    })
    this.refusals = new Counter({
      name: 'ws_refusals_total',
      help: 'Connections refused, by reason (capacity, load, connections, auth, path, config, draining)',
      labelNames: ['reason'],
      registers,
    })
    this.audioSeconds = new Counter({
      name: 'ws_audio_seconds_total',
      help: 'Seconds of audio received by streaming sessions',
      registers,
    })
    this.transcriptionSeconds = new Histogram({
      name: 'ws_transcription_seconds',
      help: 'Time from a transcription request to its result, waiting included, by kind (partial, final, revision, rest)',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.finalLatencySeconds = new Histogram({
      name: 'ws_final_latency_seconds',
      help: 'Time from the end of an utterance (the server received its last sample) to its final being sent',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.partialsSkipped = new Counter({
      name: 'ws_partials_skipped_total',
      help: 'Partials not sent because the client was reading slowly',
      registers,
    })
    this.readsPaused = new Counter({
      name: 'ws_reads_paused_total',
      help: 'Times a session stopped reading its socket because the backend was behind (maxPendingS)',
      registers,
    })
    this.errors = new Counter({
      name: 'ws_errors_total',
      help: 'Error messages sent to clients, by code',
      labelNames: ['code'],
      registers,
    })
    this.restRequests = new Counter({
      name: 'ws_rest_transcriptions_total',
      help: 'REST transcription requests, by HTTP status',
      labelNames: ['status'],
      registers,
    })
    new Gauge({
      name: 'ws_queue_depth',
      help: 'Transcription requests waiting for the backend, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        const s = scheduler.stats
        this.set({ kind: 'final' }, s.queuedFinals)
        this.set({ kind: 'partial' }, s.queuedPartials)
        this.set({ kind: 'revision' }, s.queuedRevisions)
      },
    })
    new Gauge({
      name: 'ws_inference_running',
      help: 'Transcriptions running on the backend',
      registers,
      collect() {
        this.set(scheduler.stats.running)
      },
    })
    // Where the engine's time went, by kind (final, partial, revision; ahead: finals computed
    // before their utterance ended; bulk: REST files).
    const byKind: [keyof InferenceKindStats, string, string][] = [
      ['calls', 'ws_inference_calls_total', 'Transcription requests that got a turn at the backend, by kind'],
      [
        'preempted',
        'ws_inference_preempted_total',
        'Partial and revision turns taken back for a waiting final, by kind',
      ],
      ['waitSeconds', 'ws_inference_wait_seconds_total', 'Seconds requests waited for their turn, by kind'],
      ['busySeconds', 'ws_inference_busy_seconds_total', "Seconds of the backend's time, by kind of request"],
      [
        'cpuSeconds',
        'ws_inference_cpu_seconds_total',
        "This process's CPU seconds while requests ran, shared among those running, by kind (an engine in another process, faster-whisper's worker, is not counted)",
      ],
    ]
    for (const [field, name, help] of byKind) {
      const seen = new Map<string, number>()
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          const stats = scheduler.stats.byKind
          for (const kind of INFERENCE_ACCOUNTS) {
            const value = stats[kind][field]
            this.inc({ kind }, value - (seen.get(kind) ?? 0))
            seen.set(kind, value)
          }
        },
      })
    }
    let busyFinals = 0
    new Counter({
      name: 'ws_finals_busy_total',
      help: "Finals that waited for another session's final or ran beside one (decoded on the fitted window under finalWindow auto)",
      registers,
      collect() {
        const n = scheduler.stats.busyFinals
        this.inc(n - busyFinals)
        busyFinals = n
      },
    })
    new Gauge({
      name: 'ws_final_real_time_factor',
      help: 'Backend seconds of finals per second of audio streamed, over the last 30 s (admission control uses it)',
      registers,
      collect() {
        this.set(scheduler.finalRtf ?? 0)
      },
    })
  }
}
