// Prints one closing line, "tests: N passed, N failed, N skipped", from vitest's JSON report,
// with vitest's own counts of tests. A test file that failed outside any test (it did not load,
// or a hook failed) has no failed test to count: it counts as one failed, and is named above.
// Before it, the slowest files and their share of the run: where the suite's time goes.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

const file = process.argv[2] ?? '.vitest-results.json'
let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch {
  console.log('tests: 0 passed, 1 failed')
  process.exit(1)
}
/** Files whose status is failed while none of their tests failed. */
const filesFailedOutsideTests = (results) =>
  (results ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed'),
  )
const outside = filesFailedOutsideTests(report.testResults)
for (const f of outside) {
  const why = f.message ? ` (${f.message.split('\n')[0]})` : ''
  console.log(`failed outside any test: ${relative(process.cwd(), f.name)}${why}`)
}
/** Each file's seconds from its first test's start to its last one's end (hooks before it are not counted). */
const fileSeconds = (results) =>
  (results ?? [])
    .filter((f) => Number.isFinite(f.startTime) && Number.isFinite(f.endTime))
    .map((f) => ({ name: relative(process.cwd(), f.name), seconds: (f.endTime - f.startTime) / 1000 }))
const files = fileSeconds(report.testResults)
if (files.length) {
  const total = files.reduce((sum, f) => sum + f.seconds, 0)
  console.log(`slowest files (of ${Math.round(total)} s in all files):`)
  for (const f of files.sort((a, b) => b.seconds - a.seconds).slice(0, 10))
    console.log(`  ${f.seconds.toFixed(0).padStart(5)} s  ${f.name}`)
}
const passed = report.numPassedTests ?? 0
const failed = (report.numFailedTests ?? 0) + outside.length
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
