// Prints one closing line, `tests: N passed, N failed, N skipped`, from the Jest and
// Playwright JSON reports, so that CI can read the outcome of the whole suite.
// Exits 1 when a report is missing or counts no test at all (a run that ran
// nothing is not a pass).
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = [];

function read(name) {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    missing.push(name);
    return undefined;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const jest = read('jest.json');
if (jest) {
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + (jest.numRuntimeErrorTestSuites || 0);
  skipped += jest.numPendingTests + (jest.numTodoTests || 0);
  console.log(
    `jest: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed in ${jest.numTotalTestSuites} suites` +
      (jest.numRuntimeErrorTestSuites
        ? ` (${jest.numRuntimeErrorTestSuites} suites failed to run)`
        : ''),
  );
}

const e2e = read('e2e.json');
if (e2e) {
  const s = e2e.stats || {};
  passed += s.expected || 0;
  failed += (s.unexpected || 0) + (s.flaky || 0);
  skipped += s.skipped || 0;
  if (e2e.errors && e2e.errors.length) failed += e2e.errors.length;
  console.log(
    `e2e: ${s.expected || 0} passed, ${s.unexpected || 0} failed, ${
      s.skipped || 0
    } skipped`,
  );
}

if (missing.length) {
  console.log(`missing test reports: ${missing.join(', ')}`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);
