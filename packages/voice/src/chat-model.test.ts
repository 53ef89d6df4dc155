import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenAiChatModel } from './chat-model.js'
import { codeOf } from './test-support.js'

// The OpenAI-compatible client against a real HTTP server on loopback that answers as the
// chat-completions API does: server-sent events, an error status, a stream cut short.
let server: Server
let base: string
const bodies: unknown[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => {
      raw += c
    })
    req.on('end', () => {
      const body = JSON.parse(raw)
      bodies.push({ ...body, authorization: req.headers.authorization })
      if (body.model === 'busy') {
        res.writeHead(503, { 'content-type': 'application/json' })
        return res.end('{"error":{"message":"overloaded"}}')
      }
      if (body.model === 'bad') {
        res.writeHead(400, { 'content-type': 'application/json' })
        return res.end('{"error":{"message":"unknown model"}}')
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const words = ['Paris', ' is', ' the', ' capital', '.']
      let i = 0
      const tick = setInterval(() => {
        if (i < words.length) {
          // Two events in one write, and one split across writes, as proxies deliver them.
          const event = `data: ${JSON.stringify({ choices: [{ delta: { content: words[i++] } }] })}\n\n`
          res.write(event.slice(0, 10))
          res.write(event.slice(10))
        } else {
          clearInterval(tick)
          if (body.model === 'cut') return res.destroy()
          res.end('data: [DONE]\n\n')
        }
      }, 5)
      res.on('close', () => clearInterval(tick))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

async function collect(model: string, signal?: AbortSignal) {
  const chat = new OpenAiChatModel({ baseUrl: base, model, apiKey: 'k' })
  const out: string[] = []
  for await (const t of chat.stream([{ role: 'user', content: 'capital of France?' }], {
    maxTokens: 20,
    ...(signal ? { signal } : {}),
  }))
    out.push(t)
  return out
}

describe('OpenAiChatModel', () => {
  it('streams the deltas of /chat/completions and sends the model, messages, token limit and key', async () => {
    expect((await collect('m')).join('')).toBe('Paris is the capital.')
    expect(bodies.at(-1)).toMatchObject({
      model: 'm',
      stream: true,
      max_tokens: 20,
      authorization: 'Bearer k',
    })
  })

  it('types its failures: 503 and an unreachable server are llm_unavailable, 400 llm_failed, a cut stream llm_unavailable, an abort aborted', async () => {
    expect(await codeOf(collect('busy'))).toBe('llm_unavailable')
    expect(await codeOf(collect('bad'))).toBe('llm_failed')
    expect(await codeOf(collect('cut'))).toBe('llm_unavailable')
    const gone = new OpenAiChatModel({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm' })
    expect(
      await codeOf(
        (async () => {
          for await (const _ of gone.stream([], { maxTokens: 1 }));
        })(),
      ),
    ).toBe('llm_unavailable')
    expect(await codeOf(collect('m', AbortSignal.abort()))).toBe('aborted')
    expect(() => new OpenAiChatModel({ baseUrl: 'nope', model: 'm' })).toThrow(/baseUrl/)
  })
})
