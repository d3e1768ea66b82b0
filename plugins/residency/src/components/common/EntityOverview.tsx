import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { ResidencyStatus, formatTime, statusView } from './status';
import { ReasonList } from './ReasonList';
import { displayValue } from './SafeLink';

const useStyles = makeStyles(theme => ({
  grid: {
    display: 'grid',
    gridTemplateColumns: 'minmax(110px, max-content) 1fr',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
    margin: theme.spacing(1, 0, 2),
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, wordBreak: 'break-word' },
  },
  explanation: { color: theme.palette.text.secondary },
  staleBox: {
    borderLeft: `4px solid ${theme.palette.warning.main}`,
    paddingLeft: theme.spacing(1.5),
    margin: theme.spacing(1, 0),
  },
}));

/** The entity-level part of a status: decision, tenant, boundary, declared region, reasons. */
export function EntityOverview(props: { status: EntityStatus }) {
  const classes = useStyles();
  const { status } = props;
  const view = statusView(status.decision, status.stale);
  return (
    <>
      <ResidencyStatus
        decision={status.decision}
        stale={status.stale}
        variant="headline"
      />
      <Typography variant="body2" className={classes.explanation}>
        {view.explanation}
      </Typography>
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
            />
          )}
        </div>
      )}
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
      <ReasonList reasons={status.reasons} label="Reasons for the entity" />
    </>
  );
}
