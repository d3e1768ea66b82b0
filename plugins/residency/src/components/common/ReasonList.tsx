import { Fragment } from 'react';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import {
  REASON_ADVICE,
  baseReasonCode,
  type Reason,
  type ReasonCode,
} from '@residency-dev/plugin-residency-common';
import { displayValue } from './SafeLink';

const useStyles = makeStyles(theme => ({
  list: { margin: 0, paddingLeft: theme.spacing(2.5) },
  item: { marginBottom: theme.spacing(1) },
  code: {
    fontFamily: 'monospace',
    fontSize: '0.85em',
    color: theme.palette.text.secondary,
    wordBreak: 'break-all',
  },
  advice: { color: theme.palette.text.secondary },
  details: {
    margin: 0,
    fontSize: '0.85em',
    color: theme.palette.text.secondary,
    wordBreak: 'break-all',
  },
}));

/** The plain-language advice for a reason code, if the code is known. */
export function adviceFor(code: ReasonCode | string): string | undefined {
  const base = baseReasonCode(code as ReasonCode);
  return Object.prototype.hasOwnProperty.call(REASON_ADVICE, base)
    ? REASON_ADVICE[base]
    : undefined;
}

/** Every reason with its message, what to do about it, and its facts, all as text. */
export function ReasonList(props: { reasons: Reason[]; label?: string }) {
  const classes = useStyles();
  const { reasons, label = 'Reasons' } = props;
  if (reasons.length === 0) {
    return null;
  }
  return (
    <ul className={classes.list} aria-label={label}>
      {reasons.map((reason, index) => {
        const advice = adviceFor(reason.code);
        const details = Object.entries(reason.details ?? {}).slice(0, 20);
        return (
          <li key={`${reason.code}-${index}`} className={classes.item}>
            <Typography variant="body2" component="div">
              {displayValue(reason.message)}{' '}
              <span className={classes.code}>
                ({displayValue(reason.code)})
              </span>
            </Typography>
            {advice && (
              <Typography
                variant="body2"
                component="div"
                className={classes.advice}
              >
                What to do: {advice}
              </Typography>
            )}
            {details.length > 0 && (
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
