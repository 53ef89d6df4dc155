import { defineConfig } from 'tsup'
import { defineWsConfig } from '../../tsup.shared'

// Node: the SDK and the CLI. Browser: ESM with @ws/core external (for bundlers, the `browser`
// export condition), and one self-contained ESM file for a page without a bundler.
const browser = {
  entry: { browser: 'src/browser.ts' },
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  clean: false,
  outDir: 'dist',
} as const

export default defineConfig([
  defineWsConfig({ index: 'src/index.ts', cli: 'src/cli.ts' }) as never,
  { ...browser, dts: true },
  { ...browser, entry: { 'browser.bundle': 'src/browser.ts' }, noExternal: ['@ws/core'], minify: true },
])
