import { makeStyles, useTheme } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type { ComplianceDay } from './compliance';

const useStyles = makeStyles(theme => ({
  chart: {
    display: 'flex',
    alignItems: 'flex-end',
    gap: 4,
    height: 160,
    padding: theme.spacing(1, 0),
    borderBottom: `1px solid ${theme.palette.divider}`,
  },
  bar: {
    flex: 1,
    display: 'flex',
    flexDirection: 'column-reverse',
    height: '100%',
    minWidth: 8,
  },
  labels: { display: 'flex', gap: 4 },
  label: {
    flex: 1,
    fontSize: '0.7rem',
    color: theme.palette.text.secondary,
    textAlign: 'center',
    overflow: 'hidden',
  },
  legend: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    marginTop: theme.spacing(1),
    fontSize: '0.8rem',
  },
  swatch: {
    display: 'inline-block',
    width: 10,
    height: 10,
    marginRight: 4,
    borderRadius: 2,
  },
  visuallyHidden: {
    position: 'absolute',
    width: 1,
    height: 1,
    overflow: 'hidden',
    clip: 'rect(0 0 0 0)',
    whiteSpace: 'nowrap',
  },
}));

/** Stacked bars per day (resident / not resident / unknown), colours from the theme. */
export function ComplianceChart(props: { days: ComplianceDay[] }) {
  const classes = useStyles();
  const theme = useTheme();
  const { days } = props;
  const colours = {
    resident: theme.palette.success?.main ?? '#2e7d32',
    notResident: theme.palette.error.main,
    unknown: theme.palette.warning?.main ?? '#ed6c02',
    unchecked: theme.palette.action.disabledBackground,
  };
  const max = Math.max(
    1,
    ...days.map(d => d.resident + d.notResident + d.unknown + d.unchecked),
  );
  const segments: (keyof typeof colours)[] = [
    'resident',
    'notResident',
    'unknown',
    'unchecked',
  ];
  const names = {
    resident: 'Resident',
    notResident: 'Not resident',
    unknown: 'Unknown',
    unchecked: 'Not yet checked',
  };
  return (
    <figure style={{ margin: 0 }}>
      <div className={classes.chart} aria-hidden="true">
        {days.map(d => (
          <div key={d.day} className={classes.bar} title={d.day}>
            {segments.map(s =>
              d[s] > 0 ? (
                <div
                  key={s}
                  style={{
                    height: `${(d[s] / max) * 100}%`,
                    background: colours[s],
                  }}
                />
              ) : null,
            )}
          </div>
        ))}
      </div>
      <div className={classes.labels} aria-hidden="true">
        {days.map((d, i) => (
          <div key={d.day} className={classes.label}>
            {i % 2 === 0 ? d.day.slice(5) : ''}
          </div>
        ))}
      </div>
      <div className={classes.legend} aria-hidden="true">
        {segments.map(s => (
          <span key={s}>
            <span
              className={classes.swatch}
              style={{ background: colours[s] }}
            />
            {names[s]}
          </span>
        ))}
      </div>
      <Typography
        component="figcaption"
        variant="caption"
        color="textSecondary"
      >
        Decision of each sampled service at the end of each day (UTC), rebuilt
        from its evidence history.
      </Typography>
      <table className={classes.visuallyHidden}>
        <caption>Compliance over time</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Resident</th>
            <th scope="col">Not resident</th>
            <th scope="col">Unknown</th>
            <th scope="col">Not yet checked</th>
          </tr>
        </thead>
        <tbody>
          {days.map(d => (
            <tr key={d.day}>
              <th scope="row">{d.day}</th>
              <td>{d.resident}</td>
              <td>{d.notResident}</td>
              <td>{d.unknown}</td>
              <td>{d.unchecked}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
