import { defineConfig, type Options } from 'tsup'

/**
 * The one build configuration every package uses: ESM + CJS + declarations for each entry,
 * targeting Node 20, with sourcemaps and no bundled dependencies.
 */
export function defineWsConfig(entry: Record<string, string>, overrides: Partial<Options> = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    outDir: 'dist',
    ...overrides,
  })
}
