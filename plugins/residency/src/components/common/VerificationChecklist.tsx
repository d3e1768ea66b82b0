import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import Accordion from '@material-ui/core/Accordion';
import AccordionSummary from '@material-ui/core/AccordionSummary';
import AccordionDetails from '@material-ui/core/AccordionDetails';
import ExpandMoreIcon from '@material-ui/icons/ExpandMore';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import CancelIcon from '@material-ui/icons/Cancel';
import RemoveCircleOutlineIcon from '@material-ui/icons/RemoveCircleOutline';
import NotInterestedIcon from '@material-ui/icons/NotInterested';
import { StatusError, StatusOK } from '@backstage/core-components';
import {
  checksFailingFirst,
  type CheckId,
  type CheckOutcome,
  type TimeSourceKind,
  type VerificationCheck,
  type VerificationReport,
} from '@residency-dev/plugin-residency-common';
import { displayValue } from './SafeLink';

const useStyles = makeStyles(theme => ({
  accordion: {
    boxShadow: 'none',
    border: `1px solid ${theme.palette.divider}`,
    '&:before': { display: 'none' },
    marginTop: theme.spacing(1),
  },
  summaryContent: { minWidth: 0, overflowWrap: 'anywhere' },
  expandIcon: { marginRight: 0 },
  details: { display: 'block', minWidth: 0 },
  list: { listStyle: 'none', margin: 0, padding: 0 },
  item: {
    display: 'grid',
    gridTemplateColumns: '24px minmax(0, 1fr)',
    columnGap: theme.spacing(1),
    padding: theme.spacing(0.75, 0),
    borderBottom: `1px solid ${theme.palette.divider}`,
    overflowWrap: 'anywhere',
  },
  pass: { color: theme.palette.success.main },
  fail: { color: theme.palette.error.main },
  other: { color: theme.palette.text.disabled },
  words: { color: theme.palette.text.secondary },
}));

/** A short title per check, in plain words. */
export const CHECK_TITLES: Record<CheckId, string> = {
  tenant_known: 'Tenant is defined',
  images_listed: 'Images are listed',
  declared_region: 'Declared region is inside the boundary',
  reference_parsed: 'Image reference is valid',
  registry_allowed: 'Registry is configured',
  registry_region: 'Registry region is inside the boundary',
  tag_resolved: 'Tag resolved to one digest',
  manifest_hashed: 'Manifest bytes match the digest',
  discovery: 'Signatures and attestations looked up',
  material_parsed: 'Well formed',
  signature_verified: 'Signature verifies',
  certificate_chain: 'Certificate chains to a trusted root',
  identity: 'Signer identity is trusted for this tenant',
  transparency_log: 'Transparency log entry verifies',
  timestamp: 'Signing time is trustworthy',
  key_validity: 'Key was valid at the signing time',
  key_region: 'Key region is inside the boundary',
  statement_parsed: 'Signed statement is well formed',
  subject_digest: 'Signed for this image digest',
  predicate_external_references: 'Provenance uses allowed hosts only',
  predicate_regions: 'Attested regions are inside the boundary',
  attestation_freshness: 'Attestation is recent enough',
  attestation_newest: 'Newest attestation of its kind',
  requirement: 'Tenant requirement met',
  tenant_rule: 'Tenant rule holds',
};

const OUTCOME_WORDS: Record<CheckOutcome, string> = {
  pass: 'passed',
  fail: 'failed',
  skipped: 'skipped',
  not_applicable: 'not applicable',
};

const TIME_WORDS: Record<TimeSourceKind, string> = {
  verification_time: 'verification time',
  tlog: 'transparency log',
  rfc3161: 'RFC 3161 timestamp',
};

function OutcomeIcon(props: { outcome: CheckOutcome }) {
  const classes = useStyles();
  const label = OUTCOME_WORDS[props.outcome];
  const common = { fontSize: 'small' as const, titleAccess: label };
  switch (props.outcome) {
    case 'pass':
      return <CheckCircleIcon {...common} className={classes.pass} />;
    case 'fail':
      return <CancelIcon {...common} className={classes.fail} />;
    case 'skipped':
      return <RemoveCircleOutlineIcon {...common} className={classes.other} />;
    default:
      return <NotInterestedIcon {...common} className={classes.other} />;
  }
}

/** Which signature or attestation a check is about, in words. */
function materialWords(m: VerificationCheck['material']): string | undefined {
  if (!m) return undefined;
  const format = {
    simplesigning: 'cosign signature',
    dsse: 'DSSE envelope',
    'sigstore-bundle': 'Sigstore bundle',
  }[m.format];
  const source = {
    'cosign-tag': 'cosign tag',
    referrers: 'OCI referrers',
    layout: 'OCI layout',
  }[m.source];
  return `${m.role === 'signature' ? 'Signature' : 'Attestation'} ${
    m.index + 1
  } (${format}, via ${source})`;
}

/** One check: icon, title, the material, expected vs found or why it was not run. */
function CheckItem(props: { check: VerificationCheck }) {
  const classes = useStyles();
  const c = props.check;
  const material = materialWords(c.material);
  return (
    <li
      className={classes.item}
      aria-label={`${CHECK_TITLES[c.id]}: ${OUTCOME_WORDS[c.outcome]}`}
    >
      <OutcomeIcon outcome={c.outcome} />
      <div>
        <Typography variant="body2" component="div">
          <strong>{CHECK_TITLES[c.id] ?? displayValue(c.id)}</strong>
          {material && <span className={classes.words}> · {material}</span>}
        </Typography>
        {c.why && (
          <Typography variant="body2" className={classes.words}>
            {OUTCOME_WORDS[c.outcome]}: {displayValue(c.why)}
          </Typography>
        )}
        {c.expected && (
          <Typography variant="body2">
            <span className={classes.words}>Expected: </span>
            {displayValue(c.expected)}
          </Typography>
        )}
        {c.found && (
          <Typography variant="body2">
            <span className={classes.words}>Found: </span>
            {displayValue(c.found)}
          </Typography>
        )}
        {c.time && c.outcome === 'fail' && (
          <Typography variant="body2" className={classes.words}>
            Time used: {displayValue(c.time.at)} ({TIME_WORDS[c.time.source]})
          </Typography>
        )}
      </div>
    </li>
  );
}

/**
 * The verification report of an image (or entity) as an expandable checklist:
 * failing checks first, each with what was expected and what was found.
 */
export function VerificationChecklist(props: {
  report?: VerificationReport;
  /** What the checks are of, for the accessible name ("image registry.eu/app:1"). */
  subject: string;
  defaultExpanded?: boolean;
}) {
  const classes = useStyles();
  const { report } = props;
  if (!report || report.checks.length === 0) return null;
  const checks = checksFailingFirst(report.checks);
  const failed = checks.filter(c => c.outcome === 'fail').length;
  const passed = checks.filter(c => c.outcome === 'pass').length;
  return (
    <Accordion
      className={classes.accordion}
      defaultExpanded={props.defaultExpanded ?? false}
    >
      <AccordionSummary
        expandIcon={<ExpandMoreIcon />}
        aria-label={`Checks of ${props.subject}`}
        classes={{
          content: classes.summaryContent,
          expandIcon: classes.expandIcon,
        }}
      >
        {failed > 0 ? <StatusError /> : <StatusOK />}
        <Typography variant="body2" component="span">
          What was checked: {passed} passed
          {failed > 0 ? `, ${failed} failed` : ''}
          {checks.length - passed - failed > 0
            ? `, ${checks.length - passed - failed} skipped or not applicable`
            : ''}
        </Typography>
      </AccordionSummary>
      <AccordionDetails className={classes.details}>
        <ul
          className={classes.list}
          aria-label={`Checklist of ${props.subject}`}
        >
          {checks.map((c, i) => (
            <CheckItem key={`${c.id}-${i}`} check={c} />
          ))}
        </ul>
      </AccordionDetails>
    </Accordion>
  );
}
