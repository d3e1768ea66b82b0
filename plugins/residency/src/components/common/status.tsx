import {
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type {
  Decision,
  EntityStatusSummary,
} from '@residency-dev/plugin-residency-common';

/** How a decision is shown to people. */
export interface StatusView {
  label: 'Resident' | 'Not resident' | 'Unknown' | 'Stale';
  severity: 'ok' | 'error' | 'warning' | 'pending';
  /** One sentence explaining the label. */
  explanation: string;
}

/** Maps a stored decision (and staleness) to words, a colour and an explanation. */
export function statusView(decision: Decision, stale = false): StatusView {
  if (stale) {
    return {
      label: 'Stale',
      severity: 'warning',
      explanation:
        'The latest check could not decide; the last good evidence is shown and is not current.',
    };
  }
  switch (decision) {
    case 'compliant':
      return {
        label: 'Resident',
        severity: 'ok',
        explanation:
          'Every image is signed by an in-boundary key and carries the required attestations.',
      };
    case 'non_compliant':
      return {
        label: 'Not resident',
        severity: 'error',
        explanation:
          'Verified evidence shows that at least one image does not stay inside the boundary.',
      };
    case 'invalid':
      return {
        label: 'Not resident',
        severity: 'error',
        explanation:
          'There is a configuration problem (annotation or tenant settings), so nothing was checked.',
      };
    default:
      return {
        label: 'Unknown',
        severity: 'pending',
        explanation:
          'Residency could not be decided (for example the registry did not answer). Unknown is never treated as resident.',
      };
  }
}

/** Words for a decision on its own, for history rows and tables. */
export function decisionLabel(decision: Decision): string {
  switch (decision) {
    case 'compliant':
      return 'Resident';
    case 'non_compliant':
      return 'Not resident';
    case 'invalid':
      return 'Not resident (configuration)';
    default:
      return 'Unknown';
  }
}

const ICONS = {
  ok: StatusOK,
  error: StatusError,
  warning: StatusWarning,
  pending: StatusPending,
} as const;

/**
 * Whether a list row reads "resident by exception": the backend's state with
 * exceptions, only ever for a current not-resident decision.
 */
export function isByException(
  summary: Pick<EntityStatusSummary, 'state' | 'decision' | 'stale'>,
): boolean {
  return (
    summary.state === 'resident_by_exception' &&
    summary.decision === 'non_compliant' &&
    !summary.stale
  );
}

/** Words for a not-resident decision that approved exceptions waive. */
export const BY_EXCEPTION_LABEL = 'Resident by exception';

const useStyles = makeStyles(theme => ({
  // Its own colour and shape: never the green of "Resident", never the red of "Not resident".
  byException: {
    display: 'inline-block',
    padding: theme.spacing(0.25, 1),
    borderRadius: theme.shape.borderRadius,
    border: `2px dashed ${theme.palette.secondary.main}`,
    color: theme.palette.secondary.main,
    fontWeight: 700,
  },
}));

/** A status in colour and words. */
export function ResidencyStatus(props: {
  decision: Decision;
  stale?: boolean;
  /** Adds "(configuration)" for invalid decisions. */
  detailed?: boolean;
  variant?: 'inline' | 'headline';
  /**
   * Approved exceptions in force waive every failure of this (current,
   * not-resident) decision: shown as "Resident by exception".
   */
  byException?: boolean;
}) {
  const {
    decision,
    stale = false,
    detailed = true,
    variant = 'inline',
  } = props;
  const classes = useStyles();
  if (props.byException && !stale && decision === 'non_compliant') {
    const chip = (
      <span
        className={classes.byException}
        data-testid="residency-status"
        data-state="resident_by_exception"
      >
        {BY_EXCEPTION_LABEL}
      </span>
    );
    return variant === 'headline' ? (
      <Typography variant="h6" component="p">
        {chip}
      </Typography>
    ) : (
      chip
    );
  }
  const view = statusView(decision, stale);
  const Icon = ICONS[view.severity];
  const text =
    detailed && !stale && decision === 'invalid'
      ? `${view.label} (configuration)`
      : view.label;
  if (variant === 'headline') {
    return (
      <Typography variant="h6" component="p" data-testid="residency-status">
        <Icon>{text}</Icon>
      </Typography>
    );
  }
  return (
    <span data-testid="residency-status">
      <Icon>{text}</Icon>
    </span>
  );
}

/** Formats an ISO time for people, falling back to the raw text. */
export function formatTime(iso: string | undefined): string {
  if (!iso) {
    return 'never';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return String(iso);
  }
  return date
    .toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    })
    .concat(' UTC');
}

/** Card titles are level-2 headings, so people can find cards by role. */
export const CARD_TITLE_PROPS = { component: 'h2', variant: 'h5' } as const;

/** Titles of cards inside a page tab (below the tab's level-2 heading). */
export const SECTION_CARD_TITLE_PROPS = {
  component: 'h3',
  variant: 'h6',
} as const;
