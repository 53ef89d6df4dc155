import { defineWsConfig } from '../../tsup.shared'

export default defineWsConfig({ index: 'src/index.ts' })
