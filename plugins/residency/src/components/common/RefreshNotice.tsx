import { Alert } from '@material-ui/lab';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { statusView } from './status';

/** Confirms a refresh (or says why it failed) right under the card title. */
export function RefreshNotice(props: {
  refreshedAt?: Date;
  refreshError?: Error;
  status?: EntityStatus;
}) {
  const { refreshedAt, refreshError, status } = props;
  if (refreshError) {
    return (
      <Alert severity="error" role="alert">
        Refresh failed: {refreshError.message}
      </Alert>
    );
  }
  if (refreshedAt && status) {
    const time = refreshedAt.toLocaleTimeString('en-GB', {
      timeZone: 'UTC',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    return (
      <Alert severity="info" role="status">
        Checked again at {time} UTC:{' '}
        {statusView(status.decision, status.stale).label}.
      </Alert>
    );
  }
  return null;
}
