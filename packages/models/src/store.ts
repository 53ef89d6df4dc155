import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const MARKER = '.ws-model.json'

export interface InstalledModel {
  name: string
  format: string
  dir: string
  /** Where the files came from, for people. */
  source: string
  files: Record<string, { size: number; sha256?: string }>
  installedAt: string
}

/** The installed model in `dir`, if it is complete (its marker exists and every file has its size). */
export async function readInstalled(dir: string): Promise<InstalledModel | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as InstalledModel
    for (const [file, { size }] of Object.entries(meta.files)) {
      const s = await stat(join(dir, file))
      if (s.size !== size) return undefined
    }
    return { ...meta, dir }
  } catch {
    return undefined
  }
}

/**
 * Builds a model in a temporary directory next to `target` and moves it into place in one
 * rename, so a crash never leaves a half-written model that looks complete. If another
 * process installed it meanwhile, its copy is kept.
 */
export async function installAtomically(
  target: string,
  meta: Omit<InstalledModel, 'dir' | 'files' | 'installedAt'>,
  build: (dir: string) => Promise<InstalledModel['files']>,
): Promise<InstalledModel> {
  await mkdir(dirname(target), { recursive: true })
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  await mkdir(tmp)
  try {
    const files = await build(tmp)
    const installed: InstalledModel = { ...meta, dir: target, files, installedAt: new Date().toISOString() }
    const { dir: _dir, ...stored } = installed
    await writeFile(join(tmp, MARKER), JSON.stringify(stored, null, 2))
    try {
      await rename(tmp, target)
    } catch (err) {
      const theirs = await readInstalled(target)
      if (theirs) return theirs
      if (!existsSync(target)) throw err
      await rm(target, { recursive: true, force: true })
      await rename(tmp, target)
    }
    return installed
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
