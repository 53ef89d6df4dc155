import { defineWsConfig } from '../../tsup.shared'

// shims: import.meta.url and __dirname work in both builds (the demo page is found relative to dist/).
export default defineWsConfig({ index: 'src/index.ts', cli: 'src/cli.ts' }, { shims: true })
