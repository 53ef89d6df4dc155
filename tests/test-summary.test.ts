import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// scripts/test-summary.mjs on vitest JSON reports of the shapes a run produces.
const SCRIPT = fileURLToPath(new URL('../scripts/test-summary.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ws-test-summary-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function summary(report: object) {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(report))
  const run = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' })
  return run.stdout.trim().split('\n')
}
const test = (status: string) => ({ status })
/** A vitest JSON report with these counts: tests passed, failed, pending and todo, and suites failed. */
const report = (
  counts: { passed: number; failed: number; pending: number; todo: number; failedSuites: number },
  testResults: object[],
) => ({
  numPassedTests: counts.passed,
  numFailedTests: counts.failed,
  numFailedTestSuites: counts.failedSuites,
  numPendingTests: counts.pending,
  numTodoTests: counts.todo,
  testResults,
})

describe('the closing line', () => {
  it('counts the failed tests as vitest does, not the suites that hold them', () => {
    // One failed test inside a describe: vitest counts 1 failed test and 2 failed suites
    // (the file and the describe); the line said 3 failed.
    const lines = summary(
      report({ passed: 729, failed: 1, pending: 0, todo: 0, failedSuites: 2 }, [
        { name: '/x/tests/a.test.ts', status: 'failed', assertionResults: [test('passed'), test('failed')] },
        { name: '/x/tests/b.test.ts', status: 'passed', assertionResults: [test('passed')] },
      ]),
    )
    expect(lines).toEqual(['tests: 729 passed, 1 failed, 0 skipped'])
  })

  it('counts a file that failed outside its tests as one failed, and names it', () => {
    const lines = summary(
      report({ passed: 3, failed: 0, pending: 1, todo: 1, failedSuites: 1 }, [
        {
          name: join(process.cwd(), 'tests/c.test.ts'),
          status: 'failed',
          message: 'Cannot find module x\nstack',
          assertionResults: [],
        },
        { name: '/x/tests/d.test.ts', status: 'passed', assertionResults: [test('passed')] },
      ]),
    )
    expect(lines).toEqual([
      'failed outside any test: tests/c.test.ts (Cannot find module x)',
      'tests: 3 passed, 1 failed, 2 skipped',
    ])
  })

  it('lists the slowest files with their seconds before the closing line', () => {
    const file = (name: string, seconds: number) => ({
      name: join(process.cwd(), name),
      status: 'passed',
      startTime: 1_000,
      endTime: 1_000 + seconds * 1000,
      assertionResults: [test('passed')],
    })
    const lines = summary(
      report({ passed: 3, failed: 0, pending: 0, todo: 0, failedSuites: 0 }, [
        file('tests/fast.test.ts', 2),
        file('tests/slow.test.ts', 600),
        file('tests/mid.test.ts', 40),
      ]),
    )
    expect(lines).toEqual([
      'slowest files (of 642 s in all files):',
      '    600 s  tests/slow.test.ts',
      '     40 s  tests/mid.test.ts',
      '      2 s  tests/fast.test.ts',
      'tests: 3 passed, 0 failed, 0 skipped',
    ])
  })

  it('reports a missing report as a failure', () => {
    expect(summary({}).at(-1)).toBe('tests: 0 passed, 0 failed, 0 skipped')
    const run = spawnSync(process.execPath, [SCRIPT, join(dir, 'absent.json')], { encoding: 'utf8' })
    expect(run.stdout.trim()).toBe('tests: 0 passed, 1 failed')
    expect(run.status).toBe(1)
  })
})
