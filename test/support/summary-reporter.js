// Writes jest's totals to a file so that .ci/run can print its one-line summary from them.
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.JEST_SUMMARY_FILE;
    if (!file) return;
    fs.writeFileSync(
      file,
      JSON.stringify({
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests,
        suitesFailed: results.numFailedTestSuites,
      }),
    );
  }
}

module.exports = SummaryReporter;
