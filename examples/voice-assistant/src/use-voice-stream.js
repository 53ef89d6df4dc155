import { captureMicrophone } from '@ws/client'
import { useCallback, useEffect, useRef, useState } from 'react'
import { AudioQueue } from './audio-queue.js'

/**
 * @typedef {'disconnected' | 'connecting' | 'ready' | 'recording' | 'processing'} VoiceState
 *
 * @typedef {object} VoiceStreamOptions
 * @property {string} url              the `/voice/stream` WebSocket URL
 * @property {boolean} [autoConnect]   connect on mount (default true)
 * @property {number} [baseDelayMs]    first reconnection delay (default 500; doubles, with jitter)
 * @property {number} [maxDelayMs]     longest reconnection delay (default 10 000)
 * @property {number} [maxRetries]     reconnections before giving up (default Infinity)
 */

export const DEFAULT_VOICE_STREAM_OPTIONS = {
  autoConnect: true,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetries: Infinity,
}

/**
 * A voice conversation with a `/voice/stream` server, for React: the connection (reconnected
 * with exponential backoff, the conversation resumed by its session id), the microphone, the
 * live transcript, the streamed answer and its sentences played in order. Everything stops
 * when the component unmounts.
 *
 * @param {VoiceStreamOptions} options
 */
export function useVoiceStream(options) {
  const o = { ...DEFAULT_VOICE_STREAM_OPTIONS, ...options }
  const [state, setState] = useState(/** @type {VoiceState} */ ('disconnected'))
  const [transcript, setTranscript] = useState('')
  const [response, setResponse] = useState('')
  const [error, setError] = useState(/** @type {{ code: string, message: string } | null} */ (null))
  const [sessionId, setSessionId] = useState(/** @type {string | null} */ (null))
  const [playback, setPlayback] = useState({ playing: null, queued: 0, paused: false })

  const ws = useRef(/** @type {WebSocket | null} */ (null))
  const mic = useRef(/** @type {{ stop(): Promise<void> } | null} */ (null))
  const queue = useRef(/** @type {AudioQueue | null} */ (null))
  const session = useRef(/** @type {string | null} */ (null))
  const retry = useRef({ attempt: 0, timer: /** @type {any} */ (null), wanted: false })
  const stateRef = useRef(state)
  stateRef.current = state
  const opts = useRef(o)
  opts.current = o

  queue.current ??= new AudioQueue({ onChange: setPlayback })

  const send = useCallback((message) => {
    const socket = ws.current
    if (socket?.readyState !== WebSocket.OPEN) return false
    socket.send(
      typeof message === 'string' || message instanceof ArrayBuffer || ArrayBuffer.isView(message)
        ? message
        : JSON.stringify(message),
    )
    return true
  }, [])

  const stopMic = useCallback(async () => {
    const m = mic.current
    mic.current = null
    await m?.stop()
  }, [])

  const onMessage = useCallback((event) => {
    const m = JSON.parse(event.data)
    switch (m.type) {
      case 'ready':
        session.current = m.session_id
        setSessionId(m.session_id)
        retry.current.attempt = 0
        setState((s) => (s === 'recording' ? s : 'ready'))
        break
      case 'partial_transcript':
      case 'final_transcript':
        setTranscript(m.text)
        break
      case 'response_chunk':
        setResponse(m.accumulated)
        break
      case 'audio_chunk':
        queue.current?.enqueue(new URL(m.url, opts.current.url.replace(/^ws/, 'http')).href)
        break
      case 'response_complete':
      case 'response_cancelled':
        setState((s) => (s === 'processing' ? 'ready' : s))
        break
      case 'error':
        setError({ code: m.code, message: m.message })
        // A failed question ends its processing; the session goes on.
        setState((s) =>
          s === 'processing' && (m.response_id !== undefined || m.code === 'invalid_audio') ? 'ready' : s,
        )
        break
    }
  }, [])

  const open = useCallback(() => {
    clearTimeout(retry.current.timer)
    const url = new URL(opts.current.url)
    if (session.current) url.searchParams.set('session_id', session.current)
    setState('connecting')
    const socket = new WebSocket(url)
    socket.binaryType = 'arraybuffer'
    ws.current = socket
    socket.onmessage = onMessage
    socket.onclose = () => {
      if (ws.current !== socket) return
      ws.current = null
      void stopMic()
      const r = retry.current
      if (!r.wanted || r.attempt >= opts.current.maxRetries) {
        setState('disconnected')
        return
      }
      // Exponential backoff with jitter; the conversation resumes under its session id.
      const delay =
        Math.min(opts.current.maxDelayMs, opts.current.baseDelayMs * 2 ** r.attempt) *
        (0.5 + Math.random() / 2)
      r.attempt++
      setState('connecting')
      r.timer = setTimeout(open, delay)
    }
  }, [onMessage, stopMic])

  const connect = useCallback(() => {
    retry.current.wanted = true
    retry.current.attempt = 0
    if (!ws.current) open()
  }, [open])

  const disconnect = useCallback(() => {
    retry.current.wanted = false
    clearTimeout(retry.current.timer)
    void stopMic()
    queue.current?.clear()
    const socket = ws.current
    ws.current = null
    socket?.close(1000)
    setState('disconnected')
  }, [stopMic])

  const startRecording = useCallback(async () => {
    if (stateRef.current !== 'ready' && stateRef.current !== 'processing') return
    // Barge-in: the answer stops playing; audio_start stops it on the server.
    queue.current?.clear()
    await queue.current?.warmUp()
    setError(null)
    setTranscript('')
    setResponse('')
    send({ type: 'audio_start', format: { encoding: 'pcm_s16le', sample_rate: 16_000 } })
    setState('recording')
    try {
      mic.current = await captureMicrophone((frame) => send(frame))
    } catch (err) {
      send({ type: 'audio_end' })
      setError({ code: err.code ?? 'invalid_audio', message: err.message })
      setState('ready')
    }
  }, [send])

  const stopRecording = useCallback(async () => {
    if (stateRef.current !== 'recording') return
    await stopMic()
    send({ type: 'audio_end' })
    setState('processing')
  }, [send, stopMic])

  const sendText = useCallback(
    async (text) => {
      if (!text.trim() || (stateRef.current !== 'ready' && stateRef.current !== 'processing')) return
      queue.current?.clear()
      await queue.current?.warmUp()
      setError(null)
      setTranscript(text)
      setResponse('')
      if (send({ type: 'text', content: text })) setState('processing')
    },
    [send],
  )

  const cancel = useCallback(() => {
    queue.current?.clear()
    send({ type: 'cancel' })
  }, [send])

  useEffect(() => {
    if (opts.current.autoConnect) connect()
    return () => {
      // Unmount: no reconnection, no microphone, no sound, no socket.
      retry.current.wanted = false
      clearTimeout(retry.current.timer)
      void stopMic()
      queue.current?.clear()
      ws.current?.close(1000)
      ws.current = null
    }
  }, [connect, stopMic])

  return {
    state,
    transcript,
    response,
    error,
    sessionId,
    playback,
    connect,
    disconnect,
    startRecording,
    stopRecording,
    sendText,
    cancel,
    pausePlayback: () => queue.current?.pause(),
    resumePlayback: () => queue.current?.resume(),
  }
}
