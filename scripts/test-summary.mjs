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
/** The `count` slowest files, with their seconds from the first test's start to the last one's end (hooks before the first test are not counted). */
const slowestFiles = (results, count) =>
  (results ?? [])
    .filter((f) => Number.isFinite(f.startTime) && Number.isFinite(f.endTime))
    .map((f) => ({ name: relative(process.cwd(), f.name), seconds: (f.endTime - f.startTime) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
const slowest = slowestFiles(report.testResults, 10)
if (slowest.length) {
  const total = (report.testResults ?? []).reduce(
    (s, f) => s + (Number.isFinite(f.startTime) && Number.isFinite(f.endTime) ? f.endTime - f.startTime : 0),
    0,
  )
  console.log(`slowest files (of ${Math.round(total / 1000)} s in all files):`)
  for (const f of slowest) console.log(`  ${f.seconds.toFixed(0).padStart(5)} s  ${f.name}`)
}
const passed = report.numPassedTests ?? 0
const failed = (report.numFailedTests ?? 0) + outside.length
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
