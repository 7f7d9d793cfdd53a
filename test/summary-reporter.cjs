// Prints one plain closing line, `tests: N passed, N failed[, N skipped]`, that CI reads whatever the
// runner. Written at exit so that it comes after jest's own summary.
const { writeSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests + results.numRuntimeErrorTestSuites} failed${tail}\n`;
    process.once('exit', () => writeSync(2, line));
  }
}
module.exports = SummaryReporter;
