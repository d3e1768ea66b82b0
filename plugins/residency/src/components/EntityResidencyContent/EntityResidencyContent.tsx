import type { ReactNode } from 'react';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import Grid from '@material-ui/core/Grid';
import { isResidencyAvailable } from '../../helpers';
import {
  EntityOverview,
  ImageList,
  VerificationChecklist,
  MissingAnnotation,
  RefreshButton,
  RefreshNotice,
  useEntityStatus,
  useExceptionVerdict,
  useTenantNames,
  CARD_TITLE_PROPS,
} from '../common';
import { EvidenceHistory } from './EvidenceHistory';
import { ExceptionsCard } from './ExceptionsCard';

/**
 * The "Residency" tab of an entity: full per-image detail, the evidence
 * history with downloads, and the chain-integrity result.
 *
 * @public
 */
export function EntityResidencyContent() {
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
  const exceptions = useExceptionVerdict(entityRef, status);

  if (!available) {
    return (
      <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title="Residency">
        <MissingAnnotation />
      </InfoCard>
    );
  }

  let statusBody: ReactNode;
  if (loading) {
    statusBody = <Progress />;
  } else if (error) {
    statusBody = (
      <ResponseErrorPanel
        error={error}
        title="Could not load the residency status"
      />
    );
  } else if (!status) {
    statusBody = (
      <EmptyState
        missing="data"
        title="Not checked yet"
        description="Residency has not checked this entity yet."
      />
    );
  } else {
    statusBody = (
      <EntityOverview
        status={status}
        tenants={tenants}
        verdict={exceptions.verdict}
      />
    );
  }

  return (
    <Grid container spacing={3}>
      <Grid item xs={12} md={5}>
        <InfoCard
          titleTypographyProps={CARD_TITLE_PROPS}
          title="Residency status"
          action={
            <RefreshButton
              entityRef={entityRef}
              onRefresh={() => void refresh()}
              refreshing={refreshing}
            />
          }
        >
          <RefreshNotice
            refreshedAt={refreshedAt}
            refreshError={refreshError}
            status={status}
          />
          {statusBody}
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={7}>
        <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title="Images">
          {loading && <Progress />}
          {!loading && status && status.images.length > 0 && (
            <ImageList images={status.images} context={{ tenants }} />
          )}
          {!loading && status?.report && (
            <VerificationChecklist
              report={status.report}
              subject="the entity (tenant, images, rules)"
            />
          )}
          {!loading && (!status || status.images.length === 0) && (
            <EmptyState
              missing="data"
              title="No image results"
              description={
                error
                  ? 'Per-image results are unavailable because the status could not be loaded.'
                  : 'No per-image results are available yet.'
              }
            />
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <ExceptionsCard
          entityRef={entityRef}
          status={status}
          onChange={exceptions.retry}
        />
      </Grid>
      <Grid item xs={12}>
        <EvidenceHistory entityRef={entityRef} status={status} />
      </Grid>
    </Grid>
  );
}
