// What both entry points (index.ts for Node, browser.ts) export alike.
export {
  type ClientEvent,
  type ClientEventType,
  type ConnectOptions,
  DEFAULT_RECONNECT_OPTIONS,
  DEFAULT_STRATEGY,
  type EventOf,
  type ReconnectedEvent,
  type ReconnectingEvent,
  type ReconnectOptions,
  sessionUrl,
} from './options.js'
export type { ClientSocket, SocketEvents, SocketFactory } from './socket.js'
