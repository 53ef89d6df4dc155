import { createServer } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WsError } from '../errors.js'
import { refuseUpgrade } from './refuse-upgrade.js'

const REQUEST =
  'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

const servers: ReturnType<typeof createServer>[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

async function refusingServer() {
  const server = createServer()
  servers.push(server)
  // Node's HTTP server takes its own 'error' listener off a socket it hands to 'upgrade'.
  server.on('upgrade', (_req, socket) =>
    refuseUpgrade(socket, 503, new WsError('server_busy', 'full', { retryable: true }), 5000),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

function send(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(REQUEST)
      resolve(socket)
    })
    socket.on('error', reject)
  })
}

describe('refuseUpgrade', () => {
  it('answers the status, Retry-After and the error message as JSON, and closes', async () => {
    const port = await refusingServer()
    const socket = await send(port)
    const chunks: Buffer[] = []
    for await (const chunk of socket) chunks.push(chunk as Buffer)
    const [head, body] = Buffer.concat(chunks).toString().split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1.1 503 Service Unavailable/)
    expect(head).toContain('Retry-After: 5')
    expect(JSON.parse(body!)).toMatchObject({ type: 'error', code: 'server_busy', retry_after_ms: 5000 })
  })

  it('survives a peer that resets the connection as it is refused (a proxy giving up): no unhandled socket error', async () => {
    const port = await refusingServer()
    const errors: unknown[] = []
    const onUncaught = (err: unknown) => errors.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      for (let i = 0; i < 20; i++) (await send(port)).resetAndDestroy()
      await new Promise((resolve) => setTimeout(resolve, 200))
      // The server still answers.
      const socket = await send(port)
      const chunks: Buffer[] = []
      for await (const chunk of socket) chunks.push(chunk as Buffer)
      expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1.1 503/)
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(errors).toEqual([])
  })
})
