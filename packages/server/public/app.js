// The demo client: microphone → AudioWorklet (16 kHz PCM16, 20 ms frames) → WebSocket;
// partials show committed text apart from the unstable tail, finals are listed.
const $ = (id) => document.getElementById(id)
const status = (text, error = false) => {
  $('status').textContent = text
  $('status').className = error ? 'error' : ''
}

let socket
let audio // { context, stream, node, source }
let speaking = false

function wsUrl(strategy, vad) {
  const url = new URL(`/ws/transcribe/${strategy}`, location.href)
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('sample_rate', '16000')
  url.searchParams.set('encoding', 'pcm_s16le')
  url.searchParams.set('vad', vad)
  const token = new URLSearchParams(location.search).get('token')
  if (token) url.searchParams.set('token', token)
  return url
}

function showPartial(message) {
  $('stable').textContent = message.stable
  $('unstable').textContent = message.unstable
}

function addFinal(message) {
  showPartial({ stable: '', unstable: '' })
  if (!message.text.trim()) return
  const li = document.createElement('li')
  li.className = 'final'
  li.textContent = `${message.text.trim()} `
  const small = document.createElement('small')
  small.textContent = `${message.audio_start.toFixed(1)}–${message.audio_end.toFixed(1)} s, ${message.processing_time_ms} ms`
  li.append(small)
  $('finals').append(li)
}

function onMessage(event) {
  const message = JSON.parse(event.data)
  switch (message.type) {
    case 'ready':
      status(`Listening (${message.backend}, ${message.model}, ${message.strategy}).`)
      break
    case 'partial':
      showPartial(message)
      document.body.dataset.partials = String(Number(document.body.dataset.partials ?? 0) + 1)
      break
    case 'final':
      addFinal(message)
      break
    case 'speech_start':
      speaking = true
      status('Speech…')
      break
    case 'speech_end':
      speaking = false
      status('Listening.')
      break
    case 'error':
      status(`${message.code}: ${message.message}`, true)
      break
  }
}

async function start() {
  $('start').disabled = true
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    })
    const context = new AudioContext()
    await context.audioWorklet.addModule('worklet.js')
    const source = context.createMediaStreamSource(stream)
    const node = new AudioWorkletNode(context, 'capture-16k')
    audio = { context, stream, node, source }

    socket = new WebSocket(wsUrl($('strategy').value, $('vad').value))
    socket.binaryType = 'arraybuffer'
    socket.onmessage = onMessage
    socket.onclose = (event) => {
      if (event.code !== 1000)
        status(`Disconnected (${event.code}${event.reason ? `: ${event.reason}` : ''}).`, true)
      else status('Stopped.')
      teardownAudio()
      $('start').disabled = false
      $('stop').disabled = true
    }
    await new Promise((resolve, reject) => {
      socket.onopen = resolve
      socket.onerror = () => reject(new Error('could not connect'))
    })
    node.port.onmessage = (e) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(e.data)
    }
    source.connect(node)
    $('stop').disabled = false
  } catch (err) {
    status(`Could not start: ${err.message}`, true)
    teardownAudio()
    $('start').disabled = false
  }
}

function teardownAudio() {
  if (!audio) return
  audio.source.disconnect()
  audio.node.port.onmessage = null
  for (const track of audio.stream.getTracks()) track.stop()
  void audio.context.close()
  audio = undefined
}

function stop() {
  $('stop').disabled = true
  teardownAudio()
  // `end` finalises what was sent; the server closes the socket after the last final.
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'end' }))
  status(speaking ? 'Finishing…' : 'Stopping…')
}

$('start').addEventListener('click', start)
$('stop').addEventListener('click', stop)
