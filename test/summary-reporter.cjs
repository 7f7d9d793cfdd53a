// Prints one plain closing line, `tests: N passed, N failed[, N skipped]`, that CI reads whatever the
// runner. Written at exit so that it comes after jest's own summary.
//
// Under scripts/test.mjs (`npm test`), which runs jest in several lanes, each lane's counts go to the
// file named by TEST_SUMMARY_FILE instead, and scripts/test.mjs prints the one line for all lanes with
// SummaryReporter.line().
const { writeFileSync, writeSync } = require('node:fs');

class SummaryReporter {
  /** The counts of a jest run: a suite that failed to run (syntax error, failing beforeAll) is a failure. */
  static count(results) {
    return {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
  }

  static line({ passed, failed, skipped }) {
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    return `tests: ${passed} passed, ${failed} failed${tail}\n`;
  }

  onRunComplete(_contexts, results) {
    const counts = SummaryReporter.count(results);
    const file = process.env.TEST_SUMMARY_FILE;
    if (file) {
      writeFileSync(file, JSON.stringify(counts));
      return;
    }
    const line = SummaryReporter.line(counts);
    process.once('exit', () => writeSync(2, line));
  }
}
module.exports = SummaryReporter;
