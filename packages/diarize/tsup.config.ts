import { defineWsConfig } from '../../tsup.shared'

// shims: the worker script is found relative to dist/ in both builds.
export default defineWsConfig({ index: 'src/index.ts' }, { shims: true })
