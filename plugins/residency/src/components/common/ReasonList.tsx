import { Fragment } from 'react';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import { CopyTextButton } from '@backstage/core-components';
import {
  REASON_ADVICE,
  baseReasonCode,
  type Reason,
  type ReasonCode,
} from '@residency-dev/plugin-residency-common';
import { displayValue } from './SafeLink';
import { helpFor, type ReasonContext } from './advice';

const useStyles = makeStyles(theme => ({
  list: { margin: 0, paddingLeft: theme.spacing(2.5), minWidth: 0 },
  item: { marginBottom: theme.spacing(1.5), overflowWrap: 'anywhere' },
  problem: { fontWeight: 500 },
  code: {
    fontFamily: 'monospace',
    fontSize: '0.8em',
    color: theme.palette.text.secondary,
    overflowWrap: 'anywhere',
  },
  fix: { marginTop: theme.spacing(0.5) },
  command: {
    display: 'flex',
    alignItems: 'flex-start',
    gap: theme.spacing(0.5),
    marginTop: theme.spacing(0.5),
    padding: theme.spacing(0.5, 1),
    borderRadius: theme.shape.borderRadius,
    background: theme.palette.action.hover,
    '& code': {
      flex: 1,
      minWidth: 0,
      fontSize: '0.85em',
      whiteSpace: 'pre-wrap',
      overflowWrap: 'anywhere',
    },
  },
  details: {
    margin: theme.spacing(0.5, 0, 0),
    fontSize: '0.85em',
    color: theme.palette.text.secondary,
    overflowWrap: 'anywhere',
  },
}));

/** The plain-language advice for a reason code, if the code is known. */
export function adviceFor(code: ReasonCode | string): string | undefined {
  const base = baseReasonCode(code as ReasonCode);
  return Object.prototype.hasOwnProperty.call(REASON_ADVICE, base)
    ? REASON_ADVICE[base]
    : undefined;
}

/** A command in a wrapping block with a copy button. */
export function CommandLine(props: { command: string; label?: string }) {
  const classes = useStyles();
  return (
    <div className={classes.command}>
      <code>{props.command}</code>
      <CopyTextButton
        text={props.command}
        aria-label={`Copy ${props.label ?? 'command'}`}
        tooltipText="Command copied to clipboard"
      />
    </div>
  );
}

/**
 * Every reason as: the problem in plain words, the fix (with a command when
 * there is one), then the engine's message, the code and the facts as
 * secondary text. Everything wraps; nothing is clipped.
 */
export function ReasonList(props: {
  reasons: Reason[];
  label?: string;
  context?: ReasonContext;
  /** Hide the structured facts (they are in the image details). */
  compact?: boolean;
}) {
  const classes = useStyles();
  const { reasons, label = 'Reasons', context, compact = false } = props;
  if (reasons.length === 0) {
    return null;
  }
  return (
    <ul className={classes.list} aria-label={label}>
      {reasons.map((reason, index) => {
        const help = helpFor(reason, context);
        const details = Object.entries(reason.details ?? {}).slice(0, 20);
        return (
          <li key={`${reason.code}-${index}`} className={classes.item}>
            <Typography
              variant="body2"
              component="div"
              className={classes.problem}
            >
              {help.problem}
            </Typography>
            <Typography variant="body2" component="div" color="textSecondary">
              {displayValue(reason.message)}{' '}
              <span className={classes.code}>
                ({displayValue(reason.code)})
              </span>
            </Typography>
            <Typography variant="body2" component="div" className={classes.fix}>
              Fix: {help.fix}
            </Typography>
            {help.command && (
              <CommandLine command={help.command} label="fix command" />
            )}
            {!compact && details.length > 0 && (
              <dl className={classes.details}>
                {details.map(([key, value]) => (
                  <Fragment key={key}>
                    <dt style={{ display: 'inline' }}>{displayValue(key)}: </dt>
                    <dd style={{ display: 'inline', margin: 0 }}>
                      {displayValue(value)}
                    </dd>
                    <br />
                  </Fragment>
                ))}
              </dl>
            )}
          </li>
        );
      })}
    </ul>
  );
}
