import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type {
  EntityStatus,
  ExceptionVerdict,
} from '@residency-dev/plugin-residency-common';
import { ResidencyStatus, formatTime, statusView } from './status';
import { ReasonList } from './ReasonList';
import { displayValue } from './SafeLink';
import { helpFor } from './advice';
import { sortImages } from './ImageDetails';

const useStyles = makeStyles(theme => ({
  grid: {
    display: 'grid',
    gridTemplateColumns: 'minmax(90px, max-content) minmax(0, 1fr)',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
    margin: theme.spacing(1, 0, 2),
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, minWidth: 0, overflowWrap: 'anywhere' },
  },
  explanation: { color: theme.palette.text.secondary },
  failing: {
    margin: theme.spacing(1, 0),
    paddingLeft: theme.spacing(2.5),
    overflowWrap: 'anywhere',
  },
  mono: { fontFamily: 'monospace' },
  staleBox: {
    borderLeft: `4px solid ${theme.palette.warning.main}`,
    paddingLeft: theme.spacing(1.5),
    margin: theme.spacing(1, 0),
  },
}));

/** One line per failing image: which image, and its first problem in plain words. */
export function FailingImagesSummary(props: { status: EntityStatus }) {
  const classes = useStyles();
  const failing = sortImages(props.status.images).filter(
    i => i.decision !== 'compliant',
  );
  if (failing.length === 0) {
    return null;
  }
  return (
    <ul className={classes.failing} aria-label="Failing images">
      {failing.map((image, i) => (
        <li key={`${image.reference}-${i}`}>
          <Typography variant="body2" component="span">
            <span className={classes.mono}>
              {displayValue(image.reference)}
            </span>
            {image.reasons[0]
              ? `: ${helpFor(image.reasons[0], { image }).problem}`
              : ''}
            {image.reasons.length > 1
              ? ` (+${image.reasons.length - 1} more)`
              : ''}
          </Typography>
        </li>
      ))}
    </ul>
  );
}

/**
 * Whether approved exceptions make this status "resident by exception", and
 * the sentence that says what was waived, by whom and until when.
 */
export function byExceptionView(
  status: EntityStatus,
  verdict: ExceptionVerdict | undefined,
): { explanation: string } | undefined {
  if (
    !verdict ||
    verdict.state !== 'resident_by_exception' ||
    status.stale ||
    status.decision !== 'non_compliant'
  ) {
    return undefined;
  }
  const codes = [...new Set(verdict.waived.flatMap(w => w.reasonCodes))];
  const approvers = [...new Set(verdict.waived.map(w => w.approvedBy))];
  return {
    explanation: `Not resident on its own evidence: an approved exception waives ${codes.join(
      ', ',
    )} (approved by ${approvers.join(', ')}) until ${formatTime(
      verdict.validUntil,
    )}.`,
  };
}

/**
 * The entity-level part of a status: the verdict, which images fail, then
 * tenant, boundary, declared region and times, then entity-level reasons.
 */
export function EntityOverview(props: {
  status: EntityStatus;
  tenants?: string[];
  /** The verdict with exceptions applied, when known. */
  verdict?: ExceptionVerdict;
}) {
  const classes = useStyles();
  const { status } = props;
  const view = statusView(status.decision, status.stale);
  const byException = byExceptionView(status, props.verdict);
  const failingCount = status.images.filter(
    i => i.decision !== 'compliant',
  ).length;
  return (
    <>
      <ResidencyStatus
        decision={status.decision}
        stale={status.stale}
        variant="headline"
        byException={!!byException}
      />
      {byException && (
        <Typography variant="body2" className={classes.explanation}>
          {byException.explanation}
        </Typography>
      )}
      <Typography variant="body2" className={classes.explanation}>
        {failingCount > 0
          ? `${failingCount} of ${status.images.length} image${
              status.images.length === 1 ? '' : 's'
            } ${failingCount === 1 ? 'fails' : 'fail'}:`
          : view.explanation}
      </Typography>
      <FailingImagesSummary status={status} />
      {status.stale && (
        <div className={classes.staleBox}>
          <Typography variant="body2">
            Last good evidence: <ResidencyStatus decision={status.decision} />
            {status.lastAttempt &&
              ` · latest attempt ${formatTime(
                status.lastAttempt.checkedAt,
              )} could not decide`}
          </Typography>
          {status.lastAttempt && (
            <ReasonList
              reasons={status.lastAttempt.reasons}
              label="Reasons of the latest attempt"
              context={{ tenants: props.tenants }}
            />
          )}
        </div>
      )}
      <ReasonList
        reasons={status.reasons}
        label="Reasons for the entity"
        context={{ tenants: props.tenants }}
      />
      <dl className={classes.grid}>
        <dt>Tenant</dt>
        <dd>{displayValue(status.tenant ?? 'none')}</dd>
        <dt>Boundary</dt>
        <dd>
          {status.boundary
            ? `${displayValue(status.boundary.name)}: ${status.boundary.regions
                .map(displayValue)
                .join(', ')}`
            : 'none'}
        </dd>
        <dt>Declared region</dt>
        <dd>{displayValue(status.declaredRegion ?? 'not declared')}</dd>
        <dt>Checked</dt>
        <dd>{formatTime(status.checkedAt)}</dd>
        {status.lastVerifiedAt && (
          <>
            <dt>Last verified</dt>
            <dd>{formatTime(status.lastVerifiedAt)}</dd>
          </>
        )}
      </dl>
    </>
  );
}
