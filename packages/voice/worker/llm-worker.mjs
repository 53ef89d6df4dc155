// The local chat model's process: node-llama-cpp, driven over the IPC channel by
// LocalChatModel (src/local-chat-model.ts). A process of its own, not a thread: llama.cpp and
// the whisper.cpp addon each bring their own ggml, and the two cannot share one process.
//
// in:  {type:'load', path, threads, contextTokens}     → {type:'loaded'} | {type:'error', message}
//      {type:'generate', id, messages, maxTokens, temperature}
//                                                        → {type:'chunk', id, text}… {type:'done', id}
//                                                          | {type:'error', id, message}
//      {type:'abort', id}                                  stops that answer ({type:'done', id} follows)
let loaded
const aborts = new Map()
let turn = Promise.resolve()

const send = (m) => process.send?.(m)

async function load({ path, threads, contextTokens }) {
  let lib
  try {
    lib = await import('node-llama-cpp')
  } catch (err) {
    throw Object.assign(
      new Error(`node-llama-cpp is not installed: npm install node-llama-cpp (${err?.message})`),
      {
        missing: true,
      },
    )
  }
  const { getLlama, LlamaChat, LlamaLogLevel } = lib
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  })
  const model = await llama.loadModel({ modelPath: path })
  const context = await model.createContext({ contextSize: contextTokens, threads })
  loaded = { llama, model, context, chat: new LlamaChat({ contextSequence: context.getSequence() }) }
}

async function generate({ id, messages, maxTokens, temperature }) {
  const abort = new AbortController()
  aborts.set(id, abort)
  try {
    const history = [
      ...messages.map((m) =>
        m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
      ),
      { type: 'model', response: [] },
    ]
    await loaded.chat.generateResponse(history, {
      maxTokens,
      temperature,
      signal: abort.signal,
      stopOnAbortSignal: true,
      onTextChunk: (text) => {
        if (!abort.signal.aborted) send({ type: 'chunk', id, text })
      },
    })
    send({ type: 'done', id })
  } catch (err) {
    send({ type: 'error', id, message: err?.message ?? String(err) })
  } finally {
    aborts.delete(id)
  }
}

process.on('message', (m) => {
  if (m.type === 'load') {
    load(m).then(
      () => send({ type: 'loaded' }),
      (err) => send({ type: 'error', message: err?.message ?? String(err), missing: Boolean(err?.missing) }),
    )
  } else if (m.type === 'generate') {
    // One answer at a time on the one context.
    turn = turn.then(() => generate(m))
  } else if (m.type === 'abort') {
    aborts.get(m.id)?.abort()
  }
})
// The parent went away: so does this process.
process.on('disconnect', () => process.exit(0))
