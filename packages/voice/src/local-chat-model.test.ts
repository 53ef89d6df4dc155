import { WhisperCppBackend } from '@ws/backend-whispercpp'
import { afterAll, describe, expect, it } from 'vitest'
import { LocalChatModel } from './local-chat-model.js'
import { codeOf } from './test-support.js'

// The real SmolLM2-135M-Instruct through node-llama-cpp, in its own process, beside whisper.cpp
// in this one (in one process the two ggml builds clash: a failed load or a crash).
const chat = new LocalChatModel({ temperature: 0 })
afterAll(() => chat.close())

describe('LocalChatModel', () => {
  it('answers beside whisper.cpp loaded in the same process, streaming several chunks', async () => {
    const whisper = new WhisperCppBackend()
    await whisper.loadModel('tiny.en')
    const chunks: string[] = []
    for await (const text of chat.stream([{ role: 'user', content: 'What is the capital of France?' }], {
      maxTokens: 40,
    }))
      chunks.push(text)
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.join('')).toMatch(/paris/i)
    expect((await whisper.transcribe(new Float32Array(16_000), 16_000)).text).toBeTypeOf('string')
    await whisper.close()
  }, 120_000)

  it('stops an answer at abort with `aborted`, and answers the next question', async () => {
    const abort = new AbortController()
    let got = 0
    const story = (async () => {
      for await (const _ of chat.stream([{ role: 'user', content: 'Tell me a long story.' }], {
        maxTokens: 400,
        signal: abort.signal,
      })) {
        if (++got === 2) abort.abort()
      }
    })()
    expect(await codeOf(story)).toBe('aborted')
    expect(got).toBe(2)
    let text = ''
    for await (const t of chat.stream([{ role: 'user', content: 'Say hello.' }], { maxTokens: 10 })) text += t
    expect(text.length).toBeGreaterThan(0)
  }, 60_000)

  it('fails typed: a model that is not there, a bad option, a closed model', async () => {
    const missing = new LocalChatModel({ model: '/nonexistent/model.gguf' })
    expect(await codeOf(missing.load())).toBe('model_not_found')
    expect(await codeOf(new LocalChatModel({ model: 'no-such-model' }).load())).toBe('model_not_found')
    expect(() => new LocalChatModel({ contextTokens: 3 })).toThrow(/contextTokens/)
    await missing.close()
    expect(await codeOf(missing.load())).toBe('closed')
  })
})
