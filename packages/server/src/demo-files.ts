import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))
/** The demo page, on @ws/client's browser build (one client for pages and Node). */
const CLIENT_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve('@ws/client/package.json')),
  'dist',
  'browser.bundle.js',
)
/** The demo page's files by URL path, with their content type. */
export const STATIC_FILES: Record<string, [path: string, type: string]> = {
  '/': [`${PUBLIC_DIR}index.html`, 'text/html; charset=utf-8'],
  '/index.html': [`${PUBLIC_DIR}index.html`, 'text/html; charset=utf-8'],
  '/app.js': [`${PUBLIC_DIR}app.js`, 'text/javascript; charset=utf-8'],
  '/client.js': [CLIENT_BUNDLE, 'text/javascript; charset=utf-8'],
}
