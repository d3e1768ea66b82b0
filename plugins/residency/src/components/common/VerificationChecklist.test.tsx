import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp } from '@backstage/test-utils';
import {
  CHECK_IDS,
  VERIFICATION_REPORT_SCHEMA,
  type VerificationReport,
} from '@residency-dev/plugin-residency-common';
import { CHECK_TITLES, VerificationChecklist } from './VerificationChecklist';

const material = {
  role: 'signature' as const,
  format: 'simplesigning' as const,
  source: 'cosign-tag' as const,
  index: 0,
  path: 'simpleSignatures[0]',
};

/** A report as the engine writes it for an image signed by an out-of-boundary key. */
const report: VerificationReport = {
  schema: VERIFICATION_REPORT_SCHEMA,
  checks: [
    {
      id: 'manifest_hashed',
      outcome: 'pass',
      expected: 'sha256:aaaa',
      found: '401 bytes hash to sha256:aaaa',
      durationMs: 0.2,
    },
    {
      id: 'certificate_chain',
      outcome: 'not_applicable',
      why: 'signed with a pinned key, not a certificate',
      material,
      durationMs: 0,
    },
    {
      id: 'timestamp',
      outcome: 'skipped',
      why: 'no trustworthy signed time: the verification time is used, so the age of this material cannot be proven',
      material,
      durationMs: 0,
    },
    {
      id: 'key_region',
      outcome: 'fail',
      reason: 'key_outside_boundary',
      expected: 'a region of boundary eu-sovereign (eusc-de-east-1)',
      found: 'us-east-1',
      material,
      durationMs: 0,
    },
  ],
};

describe('VerificationChecklist', () => {
  it('is folded, summarises the outcomes, and expands to the checks with failing ones first (the rest in recorded order)', async () => {
    await renderInTestApp(
      <VerificationChecklist
        report={report}
        subject="image registry.eu/app:1"
      />,
    );
    const summary = screen.getByRole('button', {
      name: 'Checks of image registry.eu/app:1',
    });
    expect(summary).toHaveAttribute('aria-expanded', 'false');
    expect(summary).toHaveTextContent(
      'What was checked: 1 passed, 1 failed, 2 skipped or not applicable',
    );
    await userEvent.click(summary);
    expect(summary).toHaveAttribute('aria-expanded', 'true');
    const list = screen.getByRole('list', {
      name: 'Checklist of image registry.eu/app:1',
    });
    const items = within(list).getAllByRole('listitem');
    expect(items.map(i => i.getAttribute('aria-label'))).toEqual([
      'Key region is inside the boundary: failed',
      'Manifest bytes match the digest: passed',
      'Certificate chains to a trusted root: not applicable',
      'Signing time is trustworthy: skipped',
    ]);
    // the failure, in plain words: which material, expected and found, with its icon
    expect(items[0]).toHaveTextContent(
      'Key region is inside the boundary · Signature 1 (cosign signature, via cosign tag)',
    );
    expect(items[0]).toHaveTextContent(
      'Expected: a region of boundary eu-sovereign (eusc-de-east-1)',
    );
    expect(items[0]).toHaveTextContent('Found: us-east-1');
    expect(within(items[0]).getByTitle('failed')).toBeInTheDocument();
    expect(within(items[1]).getByTitle('passed')).toBeInTheDocument();
    expect(items[3]).toHaveTextContent(
      'skipped: no trustworthy signed time: the verification time is used',
    );
  });

  it('renders nothing without a report (records older than the report)', async () => {
    await renderInTestApp(
      <div data-testid="host">
        <VerificationChecklist subject="image x" />
      </div>,
    );
    expect(screen.getByTestId('host')).toBeEmptyDOMElement();
  });

  it('has a plain title for every check id', () => {
    for (const id of CHECK_IDS) expect(CHECK_TITLES[id]).toMatch(/^[A-Z]/);
  });
});
