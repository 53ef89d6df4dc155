import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WsError } from '@ws/core'

/** GPT-2's byte ⇄ unicode mapping for byte-level BPE: unicode character → byte. */
function byteDecoder(): Map<string, number> {
  const bs: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b)
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b)
  for (let b = 0xae; b <= 0xff; b++) bs.push(b)
  const cs = [...bs]
  let n = 0
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b)
      cs.push(256 + n++)
    }
  }
  return new Map(cs.map((c, i) => [String.fromCharCode(c), bs[i]!]))
}

/**
 * The model's regular tokens as raw bytes, in id order, from `tokenizer.json` (the BPE
 * vocabulary; whisper.cpp names the special tokens itself).
 */
export async function readTokens(ct2Dir: string): Promise<Buffer[]> {
  const file = join(ct2Dir, 'tokenizer.json')
  if (!existsSync(file)) throw new WsError('model_load_failed', `${ct2Dir} has no tokenizer.json`)
  const tokenizer = JSON.parse(await readFile(file, 'utf8')) as { model?: { vocab?: Record<string, number> } }
  const vocab = tokenizer.model?.vocab
  if (!vocab) throw new WsError('model_load_failed', `${file} has no model.vocab`)
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1])
  entries.forEach(([token, id], i) => {
    if (id !== i)
      throw new WsError(
        'model_load_failed',
        `${file}: token ids are not contiguous at "${token}" (${id} ≠ ${i})`,
      )
  })
  const decoder = byteDecoder()
  return entries.map(([token]) =>
    Buffer.from(
      [...token].map((ch) => {
        const b = decoder.get(ch)
        if (b === undefined)
          throw new WsError('model_load_failed', `${file}: token "${token}" is not byte-level BPE`)
        return b
      }),
    ),
  )
}
