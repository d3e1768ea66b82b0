import Button from '@material-ui/core/Button';
import RefreshIcon from '@material-ui/icons/Refresh';
import { usePermission } from '@backstage/plugin-permission-react';
import { residencyRefreshPermission } from '@residency-dev/plugin-residency-common';

/** "Check now", shown only to people the permission policy allows to refresh. */
export function RefreshButton(props: {
  entityRef: string;
  onRefresh: () => void;
  refreshing: boolean;
}) {
  const { allowed, loading } = usePermission({
    permission: residencyRefreshPermission,
    resourceRef: props.entityRef,
  });
  if (loading || !allowed) {
    return null;
  }
  return (
    <Button
      size="small"
      variant="outlined"
      startIcon={<RefreshIcon />}
      onClick={props.onRefresh}
      disabled={props.refreshing}
      aria-label="Refresh residency status"
    >
      {props.refreshing ? 'Checking…' : 'Refresh'}
    </Button>
  );
}
