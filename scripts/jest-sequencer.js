/*
 * Test file order for `npm test` (scripts/test.sh passes --testSequencer). Jest runs the
 * files it has timings for longest first, but on a fresh clone (as in CI) it has none and
 * orders by file size: the app's one-test file, the slowest of all (it imports the whole
 * app), started last and ran alone on one core at the end. Files measured as slow here get
 * their measured time as an estimate when Jest's own is shorter or missing. No file is
 * skipped or split: only the order changes.
 */
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Seconds one file took in a full run of `npm test` on the 2-core machine (load 6-10,
 * 2026-12-02); only files above 15 s.
 */
const MEASURED_SECONDS = {
  'packages/residency-cli/src/commands/verifyBundle.conformance.test.ts': 85,
  'packages/residency-cli/src/integration.test.ts': 65,
  'packages/app/src/App.test.tsx': 48,
  'plugins/residency-backend/src/crash.test.ts': 36,
  'plugins/residency-backend/src/refresh/isolation.test.ts': 21,
  'plugins/residency-node/src/interop/keyless.interop.test.ts': 20,
  'plugins/residency/src/components/EntityResidencyContent/EntityResidencyContent.test.tsx': 20,
  'plugins/residency-node/src/evidence/evidence.test.ts': 19,
  'plugins/residency/src/components/common/VerificationChecklist.test.tsx': 18,
  'plugins/residency/src/components/Catalog/ResidencyColumn.test.tsx': 18,
  'packages/residency-cli/src/bin.test.ts': 16,
  'plugins/residency-backend/src/exceptions/exceptions.test.ts': 16,
  'plugins/residency-backend/src/database/DatabaseResidencyStore.test.ts': 16,
};
const path = require('node:path');
const root = path.resolve(__dirname, '..');
const SLOW_MS = 15_000;

class MeasuredFirstSequencer extends Sequencer {
  sort(tests) {
    // Jest's order: failed last time first, then by time, else by file size.
    const base = super.sort([...tests]);
    // The longer of Jest's last time and the measured one: the last time may come from a
    // run of that file alone (the conformance file: 10 s alone, 74-171 s in a full run).
    const estimate = test => {
      const rel = path.relative(root, test.path).split(path.sep).join('/');
      return Math.max(
        this.time(test) ?? 0,
        (MEASURED_SECONDS[rel] ?? 0) * 1000,
      );
    };
    const failed = base.filter(t => this.hasFailed(t));
    const rest = base.filter(t => !this.hasFailed(t));
    const slow = rest
      .filter(t => estimate(t) >= SLOW_MS)
      .sort((a, b) => estimate(b) - estimate(a));
    return [...failed, ...slow, ...rest.filter(t => !slow.includes(t))];
  }
}

module.exports = MeasuredFirstSequencer;
