// Copies Silero VAD v5 (silero_vad_v5.onnx) from the pinned @ricky0123/vad-web into models/,
// checking its sha256, so the published package carries the model and needs no browser runtime.
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SHA256 = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = join(root, 'models', 'silero_vad_v5.onnx')
const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')

if (existsSync(target) && sha(target) === SHA256) process.exit(0)
const require = createRequire(import.meta.url)
let source
try {
  source = join(dirname(require.resolve('@ricky0123/vad-web')), 'silero_vad_v5.onnx')
} catch {
  console.error('copy-model: @ricky0123/vad-web is not installed (a devDependency of @ws/vad-silero)')
  process.exit(1)
}
if (!existsSync(source))
  source = join(dirname(require.resolve('@ricky0123/vad-web')), '..', 'dist', 'silero_vad_v5.onnx')
if (sha(source) !== SHA256) {
  console.error(`copy-model: ${source} does not have the expected sha256 ${SHA256}`)
  process.exit(1)
}
mkdirSync(dirname(target), { recursive: true })
copyFileSync(source, target)
writeFileSync(
  join(root, 'models', 'LICENSE.silero-vad'),
  `silero_vad_v5.onnx is Silero VAD v5 by Silero Team (https://github.com/snakers4/silero-vad),
MIT License, Copyright (c) 2020-present Silero Team. Taken from @ricky0123/vad-web 0.0.31.
sha256 ${SHA256}
`,
)
console.log(`copy-model: models/silero_vad_v5.onnx (${SHA256.slice(0, 12)}…)`)
