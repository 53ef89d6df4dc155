// The demo client, on @ws/client's browser build (served as /client.js): the microphone
// through its AudioWorklet (16 kHz PCM16, 20 ms frames) into a session; partials show
// committed text apart from the unstable tail, finals are listed, and a revision replaces
// the finals it names with their text decoded again together.
import { connect, streamMicrophone } from './client.js'

const $ = (id) => document.getElementById(id)
const status = (text, error = false) => {
  $('status').textContent = text
  $('status').className = error ? 'error' : ''
}

let session
let capture
let speaking = false

function showPartial(event) {
  $('stable').textContent = event.stable
  $('unstable').textContent = event.unstable
}

function addFinal(event) {
  showPartial({ stable: '', unstable: '' })
  if (!event.text.trim()) return
  $('finals').append(line(event, 'final', event.utterance_id))
}

function line(event, className, id) {
  const li = document.createElement('li')
  li.className = className
  li.dataset.utterance = String(id)
  li.textContent = `${event.text.trim()} `
  const small = document.createElement('small')
  small.textContent = `${event.audio_start.toFixed(1)}–${event.audio_end.toFixed(1)} s, ${event.processing_time_ms} ms${className === 'revised' ? ', revised' : ''}`
  li.append(small)
  return li
}

/** The finals a revision names give way to one line of its text, where the first of them was. */
function revise(event) {
  const [first, ...rest] = event.utterance_ids
    .map((id) => $('finals').querySelector(`li[data-utterance="${id}"]`))
    .filter((li) => li !== null)
  for (const li of rest) li.remove()
  const revised = event.text.trim() ? line(event, 'revised', event.utterance_ids[0]) : undefined
  if (first && revised) first.replaceWith(revised)
  else if (first) first.remove()
  else if (revised) $('finals').append(revised)
  document.body.dataset.revisions = String(Number(document.body.dataset.revisions ?? 0) + 1)
}

function onEvent(event) {
  switch (event.type) {
    case 'ready':
      status(`Listening (${event.backend}, ${event.model}, ${event.strategy}).`)
      break
    case 'partial':
      showPartial(event)
      document.body.dataset.partials = String(Number(document.body.dataset.partials ?? 0) + 1)
      break
    case 'final':
      addFinal(event)
      break
    case 'revision':
      revise(event)
      break
    case 'speech_start':
      speaking = true
      status('Speech…')
      break
    case 'speech_end':
      speaking = false
      status('Listening.')
      break
    case 'reconnecting':
      status(`Connection lost; reconnecting (attempt ${event.attempt})…`, true)
      break
    case 'reconnected':
      status(
        event.lost.end > event.lost.start
          ? `Reconnected; ${(event.lost.end - event.lost.start).toFixed(1)} s of audio were not transcribed.`
          : 'Reconnected; no audio lost.',
      )
      break
    case 'error':
      status(`${event.code}: ${event.message}`, true)
      break
  }
}

async function start() {
  $('start').disabled = true
  const token = new URLSearchParams(location.search).get('token')
  session = connect(location.origin, {
    strategy: $('strategy').value,
    vad: $('vad').value,
    sample_rate: 16_000,
    encoding: 'pcm_s16le',
    reconnect: true,
    ...(token ? { token } : {}),
  })
  const current = session
  const done = (async () => {
    for await (const event of current) onEvent(event)
  })()
  try {
    capture = await streamMicrophone(current)
    $('stop').disabled = false
  } catch (err) {
    status(`Could not start: ${err.message}`, true)
    await current.close()
  }
  try {
    await done
    if (!$('status').classList.contains('error')) status('Stopped.')
  } catch (err) {
    status(`Disconnected: ${err.message}`, true)
  } finally {
    await capture?.stop()
    capture = undefined
    $('start').disabled = false
    $('stop').disabled = true
  }
}

async function stop() {
  $('stop').disabled = true
  // No frame after the end; `end` finalises what was sent, and the loop above ends after the
  // last final.
  await capture?.stop()
  status(speaking ? 'Finishing…' : 'Stopping…')
  await session?.end()
}

$('start').addEventListener('click', start)
$('stop').addEventListener('click', stop)
