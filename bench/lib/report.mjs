// The markdown report (latest.md) from the JSON report (latest.json).

const cell = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`)

/**
 * The report's markdown lines: the header line, the virtual-clock and real-time tables, then
 * the capacity, long-form, A/B and engine sections when the report has them. `reviseMs` is the
 * `--revise-ms` flag as given; `audioSeconds` the length of the short corpus.
 */
export function markdownReport(report, { hangoverMs, reviseMs, sentences, audioSeconds }) {
  const md = [
    `# whisper-stream benchmark`,
    '',
    `${report.date.slice(0, 10)} · ${report.machine} · \`${report.command}\` · tiny.en, WebRTC VAD (hangover ${hangoverMs} ms), greedy decoding, revisions ${Number(reviseMs) > 0 ? `in blocks of up to ${reviseMs} ms` : 'off'} · ${sentences} sentences, ${audioSeconds.toFixed(1)} s`,
    '',
    '## Virtual clock (inference time not counted: policy latency and accuracy)',
    '',
    '| backend | strategy | noise | WER finals | WER offline | finals vs offline | WER revised | revised vs offline | WER committed | first partial p50 | word emission p50 | word commit p50 | final after speech p50 | partial rewrites /100 words | CPU s / audio s |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.virtual.map(
      (r) =>
        `| ${r.backend} | ${r.strategy} | ${r.noise === 'clean' ? 'clean' : `${r.noise} dB`} | ${cell(r.werFinals, ' %')} | ${cell(r.werOffline, ' %')} | ${cell(r.werFinalsVsOffline, ' %')} | ${cell(r.werRevised, ' %')} | ${cell(r.werRevisedVsOffline, ' %')} | ${cell(r.werCommitted, ' %')} | ${cell(r.firstPartialP50Ms, ' ms')} | ${cell(r.wordEmissionP50Ms, ' ms')} | ${cell(r.wordCommitP50Ms, ' ms')} | ${cell(r.finalAfterSpeechP50Ms, ' ms')} | ${cell(r.revisionsPer100Words)} | ${cell(r.cpuSecondsPerAudioSecond)} |`,
    ),
    '',
    'CPU is this process: it includes whisper.cpp (in process) but not the faster-whisper worker (a Python process); the real-time tables count both.',
    '',
    '## Real time, one session, clean speech',
    '',
    '| backend | strategy | WER finals | first partial p50 | partial lag p50 | word emission p50 | word commit p50 | final after speech p50 / p95 | sentences joined | less hangover p50 | partial rewrites /100 words | server CPU s / audio s | server RSS | worker RSS | load generator CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.realtime.map(
      (r) =>
        `| ${r.backend} | ${r.strategy} | ${cell(r.werFinals, ' %')} | ${cell(r.firstPartialP50Ms, ' ms')} | ${cell(r.partialLagP50Ms, ' ms')} | ${cell(r.wordEmissionP50Ms, ' ms')} | ${cell(r.wordCommitP50Ms, ' ms')} | ${cell(r.finalAfterSpeechP50Ms)} / ${cell(r.finalAfterSpeechP95Ms, ' ms')} | ${cell(r.sentencesJoined)} | ${cell(r.finalLessHangoverP50Ms, ' ms')} | ${cell(r.revisionsPer100Words)} | ${cell(r.serverCpuPerAudioSecond)} | ${cell(r.serverRssMb, ' MB')} | ${cell(r.workerRssMb || null, ' MB')} | ${cell(r.loadGeneratorCpu)} |`,
    ),
    '',
    'Final after speech counts from the end of the last sentence a final covers: a sentence the VAD joined to the next (it heard no end of speech in the pause between them) has its final after the next one, counted under "sentences joined".',
  ]
  if (report.capacity.length > 0) {
    md.push(
      '',
      `## Capacity (real English stream ${report.input.capacityStream ?? ''}, \`prompt\`, revisions on, sessions started ${report.input.staggerMs ?? 0} ms apart; held: final p95 under 1 s, finals within 1 point of WER of the same model offline, no growing backlog)`,
      '',
      'Final latency from the end of each utterance’s audio (the VAD’s hangover included) to its final. WER offline: the same model on each utterance alone, as a whole clip.',
      '',
      '| backend | sessions | final p50 | final p95 | final max | backlog growing | WER finals | WER revised | WER offline | server CPU s / audio s |',
      '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|',
      ...report.capacity
        .filter((r) => r.sessions !== undefined)
        .map(
          (r) =>
            `| ${r.backend} | ${r.sessions} | ${cell(r.finalP50Ms, ' ms')} | ${cell(r.finalP95Ms, ' ms')} | ${cell(r.finalMaxMs, ' ms')} | ${r.growingBacklog ? 'yes' : 'no'} | ${cell(r.werFinals, ' %')} | ${cell(r.werRevised, ' %')} | ${cell(r.werOffline, ' %')} | ${cell(r.serverCpuPerAudioSecond)} |`,
        ),
      '',
      ...report.capacity
        .filter((r) => r.capacity !== undefined)
        .map((r) => `Capacity of ${r.backend}: **${r.capacity}** sessions.`),
    )
  }
  for (const r of report.long) {
    const first = r.series.find((x) => x.rssMb)?.rssMb
    const last = r.series.findLast((x) => x.rssMb)?.rssMb
    md.push(
      '',
      `## Long form, real time: ${r.backend}, ${r.strategy}, ${Math.round(r.audioSeconds / 60)} min (${r.sentences} sentences, two voices, 0.3–2 s pauses)`,
      '',
      `WER of the finals ${r.werFinals} %, of the same model offline on the whole audio ${r.werOffline} %, finals against that offline transcript ${r.werFinalsVsOffline} %; after revisions ${r.werRevised} % (${r.werRevisedVsOffline} % against offline); server CPU ${r.serverCpuPerAudioSecond} s per audio s; resident memory ${first} → ${last} MB.`,
      '',
      '| minute | finals | sentences joined to the next | without a final | final p50 | final p95 | partial lag p50 | partial lag max | RSS |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...r.series.map(
        (x) =>
          `| ${x.minute} | ${x.finals} | ${x.joined} | ${x.missing} | ${cell(x.finalP50Ms, ' ms')} | ${cell(x.finalP95Ms, ' ms')} | ${cell(x.lagP50Ms, ' ms')} | ${cell(x.lagMaxMs, ' ms')} | ${cell(x.rssMb, ' MB')} |`,
      ),
    )
    if (r.slowFinals?.length) {
      md.push(
        '',
        'Finals over 1 s after the speech (trace one with `--server-log`):',
        '',
        '| speech end | latency | processing | audio | text |',
        '|---:|---:|---:|---:|---|',
        ...r.slowFinals.map(
          (f) =>
            `| ${f.speechEndS} s | ${f.latencyMs} ms | ${f.processingMs} ms | ${f.audioS} s | ${f.text} |`,
        ),
      )
    }
  }
  for (const k of report.compare ?? []) {
    const inputs = k.inputs.map((i) => `${i.name} (${i.audioSeconds} s)`).join(', ')
    md.push(
      '',
      `## A/B, interleaved A B B A (${k.backend}, prompt, one real-time session over ${inputs})`,
      '',
      `A = \`${k.A}\`, B = \`${k.B}\`: final latency p50 ${k.finalLatencyP50Ms.A} ms vs ${k.finalLatencyP50Ms.B} ms, ratio B/A ${k.finalLatencyRatio.ratio} (95 % bootstrap ${k.finalLatencyRatio.low}–${k.finalLatencyRatio.high}); p95 ${k.finalLatencyP95Ms.A} vs ${k.finalLatencyP95Ms.B} ms; server CPU s per audio s ${k.serverCpuPerAudioSecond.A} vs ${k.serverCpuPerAudioSecond.B}; WER of the finals ${k.werFinals.A} % vs ${k.werFinals.B} %, of the revised text ${k.werRevised.A} % vs ${k.werRevised.B} %.`,
    )
  }
  if (report.engine) {
    const { contention: k, install: i } = report.engine
    md.push(
      '',
      '## whisper.cpp engine',
      '',
      `CPU shared: ${k.audioSeconds} s of speech (tiny.en, beam 5, reduced window) took ${k.aloneMs} ms alone, ${k.besideBusyLoopMs} ms beside one CPU-bound process (×${k.slowdownBusyLoop}), ${k.besideWhisperMs} ms beside another whisper.cpp process (×${k.slowdownWhisper}).`,
      '',
      `Installed as a user would (${i.manager}, tarballs, default settings; binary: ${i.source}; install ${i.installSeconds} s): ten sentences in ${i.installedMs} ms against ${i.workspaceMs} ms for the workspace build, ratio ${i.ratio}.`,
    )
  }
  return md
}
