import { defineWsConfig } from '../../tsup.shared'

export default defineWsConfig({
  index: 'src/index.ts',
  testing: 'src/testing/index.ts',
  node: 'src/node/index.ts',
})
