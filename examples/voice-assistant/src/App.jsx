import { useState } from 'react'
import { useVoiceStream } from './use-voice-stream.js'

/** The page: connection state, a push-to-talk button, the live transcript, the streamed answer. */
export function App({ url }) {
  const voice = useVoiceStream({ url })
  const [typed, setTyped] = useState('')
  const recording = voice.state === 'recording'
  const canTalk = voice.state === 'ready' || voice.state === 'processing' || recording
  return (
    <main>
      <header>
        <h1>Voice assistant</h1>
        <span className="state" data-state={voice.state}>
          {voice.state}
        </span>
      </header>
      <button
        type="button"
        className="mic"
        aria-pressed={recording}
        disabled={!canTalk}
        onClick={() => (recording ? voice.stopRecording() : voice.startRecording())}
      >
        {recording ? 'Stop and send' : 'Speak'}
      </button>{' '}
      <button
        type="button"
        className="cancel"
        disabled={voice.state !== 'processing' && !voice.playback.playing}
        onClick={voice.cancel}
      >
        Stop answer
      </button>{' '}
      {voice.state === 'disconnected' ? (
        <button type="button" onClick={voice.connect}>
          Connect
        </button>
      ) : (
        <button type="button" onClick={voice.disconnect}>
          Disconnect
        </button>
      )}
      <section>
        <h2>You</h2>
        <div className="transcript">{voice.transcript}</div>
      </section>
      <section>
        <h2>Assistant</h2>
        <div className="answer">{voice.response}</div>
        <small className="playback">
          {voice.playback.playing ? `speaking (${voice.playback.queued} more queued)` : ''}
        </small>
      </section>
      {voice.error ? (
        <p className="error">
          {voice.error.code}: {voice.error.message}
        </p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void voice.sendText(typed)
          setTyped('')
        }}
      >
        <input
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="…or type a question"
          aria-label="question"
        />
        <button type="submit" disabled={!canTalk || recording}>
          Ask
        </button>
      </form>
    </main>
  )
}
