import { type ErrorCode, isWsError } from '../errors.js'

/**
 * Conformance suites are plain data: named async checks that throw on failure, with a
 * setup and a teardown. They need no test framework; {@link registerConformance} hands them
 * to vitest, jest or node:test, and {@link runConformance} runs them directly.
 */
export interface ConformanceCase {
  name: string
  run: () => Promise<void>
}

export interface ConformanceSuite {
  name: string
  setup: () => Promise<void>
  teardown: () => Promise<void>
  cases: ConformanceCase[]
}

/** Thrown by a failed check. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConformanceError'
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message)
}

/** Checks that `promise` rejects with a WsError of `code` (from any copy of @ws/core). */
export async function expectWsError(
  promise: Promise<unknown> | (() => unknown),
  code: ErrorCode,
  what: string,
): Promise<void> {
  let result: unknown
  try {
    result = await (typeof promise === 'function' ? promise() : promise)
  } catch (err) {
    check(isWsError(err), `${what}: expected a WsError "${code}", got ${String(err)}`)
    check(err.code === code, `${what}: expected error code "${code}", got "${err.code}" (${err.message})`)
    return
  }
  throw new ConformanceError(`${what}: expected a WsError "${code}", but it succeeded with ${short(result)}`)
}

function short(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value)
  return s.length > 120 ? `${s.slice(0, 120)}…` : s
}

export interface ConformanceReport {
  passed: string[]
  failed: { name: string; error: Error }[]
}

/** Runs a suite's cases one after another and reports which failed. */
export async function runConformance(suite: ConformanceSuite): Promise<ConformanceReport> {
  const report: ConformanceReport = { passed: [], failed: [] }
  await suite.setup()
  try {
    for (const c of suite.cases) {
      try {
        await c.run()
        report.passed.push(c.name)
      } catch (err) {
        report.failed.push({ name: c.name, error: err instanceof Error ? err : new Error(String(err)) })
      }
    }
  } finally {
    await suite.teardown()
  }
  return report
}

type Hook = (fn: () => Promise<void>, timeout?: number) => void
type Test = (name: string, fn: () => Promise<void>, timeout?: number) => void

/**
 * Registers a suite with a test framework:
 * `registerConformance(suite, { describe, it, beforeAll, afterAll }, 120_000)`.
 */
export function registerConformance(
  suite: ConformanceSuite,
  api: { describe: (name: string, fn: () => void) => void; it: Test; beforeAll: Hook; afterAll: Hook },
  timeoutMs = 60_000,
): void {
  api.describe(suite.name, () => {
    api.beforeAll(() => suite.setup(), timeoutMs)
    api.afterAll(() => suite.teardown(), timeoutMs)
    for (const c of suite.cases) api.it(c.name, c.run, timeoutMs)
  })
}
