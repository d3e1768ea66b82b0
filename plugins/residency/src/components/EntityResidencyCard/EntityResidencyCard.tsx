import type { ReactNode } from 'react';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import Typography from '@material-ui/core/Typography';
import { isResidencyAvailable } from '../../helpers';
import {
  EntityOverview,
  ImageList,
  MissingAnnotation,
  RefreshButton,
  RefreshNotice,
  useEntityStatus,
  useExceptionVerdict,
  useTenantNames,
  CARD_TITLE_PROPS,
} from '../common';

/**
 * The residency card for an entity's overview: status in colour and words,
 * tenant and boundary, every image with its evidence, every reason with advice.
 *
 * @public
 */
export function EntityResidencyCard(props: { title?: string }) {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const available = isResidencyAvailable(entity);
  const {
    loading,
    error,
    status,
    refresh,
    refreshing,
    refreshError,
    refreshedAt,
  } = useEntityStatus(entityRef, available);
  const tenants = useTenantNames(status?.reasons);
  const { verdict } = useExceptionVerdict(entityRef, status);
  const title = props.title ?? 'Residency';

  if (!available) {
    return (
      <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title={title}>
        <MissingAnnotation />
      </InfoCard>
    );
  }

  const action = (
    <RefreshButton
      entityRef={entityRef}
      onRefresh={() => void refresh()}
      refreshing={refreshing}
    />
  );

  let body: ReactNode;
  if (loading) {
    body = <Progress />;
  } else if (error) {
    body = (
      <ResponseErrorPanel
        error={error}
        title="Could not load the residency status"
      />
    );
  } else if (!status) {
    body = (
      <EmptyState
        missing="data"
        title="Not checked yet"
        description="Residency has not checked this entity yet. The next scheduled check will pick it up; people allowed to refresh can check it now."
      />
    );
  } else {
    body = (
      <>
        <EntityOverview status={status} tenants={tenants} verdict={verdict} />
        {status.images.length > 0 && (
          <>
            <Typography variant="subtitle1" component="h3" gutterBottom>
              Images ({status.images.length})
            </Typography>
            <ImageList images={status.images} context={{ tenants }} />
          </>
        )}
      </>
    );
  }

  return (
    <InfoCard
      titleTypographyProps={CARD_TITLE_PROPS}
      title={title}
      action={action}
    >
      <RefreshNotice
        refreshedAt={refreshedAt}
        refreshError={refreshError}
        status={status}
      />
      {body}
    </InfoCard>
  );
}
