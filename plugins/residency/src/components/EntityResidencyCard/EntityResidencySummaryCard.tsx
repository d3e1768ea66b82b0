import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteRef,
  getEntityRelations,
  useEntity,
} from '@backstage/plugin-catalog-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import Typography from '@material-ui/core/Typography';
import { isResidencyAvailable } from '../../helpers';
import {
  FailingImagesSummary,
  ResidencyStatus,
  byExceptionView,
  formatTime,
  helpFor,
  staleBecause,
  statusView,
  useEntityStatus,
  useExceptionVerdict,
  CARD_TITLE_PROPS,
} from '../common';

/** The entity page's link to the Residency tab (`<entity>/residency`). */
function useResidencyTabLink(): string {
  const { entity } = useEntity();
  const entityRoute = useRouteRef(entityRouteRef);
  const entityPath = entityRoute({
    namespace: entity.metadata.namespace ?? 'default',
    kind: entity.kind.toLocaleLowerCase('en-US'),
    name: entity.metadata.name,
  });
  return `${entityPath.replace(/\/$/, '')}/residency`;
}

/**
 * A compact residency card for the top of an entity's overview: the verdict,
 * which images fail and why in one line each, and a link to the full tab.
 * Entities without the annotations get one line on how to onboard.
 *
 * @public
 */
export function EntityResidencySummaryCard(props: { title?: string }) {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const available = isResidencyAvailable(entity);
  const { loading, error, status } = useEntityStatus(entityRef, available);
  const { verdict } = useExceptionVerdict(entityRef, status);
  const tabLink = useResidencyTabLink();
  const title = props.title ?? 'Residency';
  const owner = getEntityRelations(entity, 'ownedBy')[0]?.name;

  let body;
  if (!available) {
    body = (
      <Typography variant="body2">
        Residency is not set up for this{' '}
        {entity.kind.toLocaleLowerCase('en-US')}
        {owner ? ` (owned by ${owner})` : ''}.{' '}
        <Link to={tabLink}>See how to onboard it</Link>.
      </Typography>
    );
  } else if (loading) {
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
      <Typography variant="body2">
        Not checked yet; the next scheduled check picks it up.{' '}
        <Link to={tabLink}>Open Residency</Link>
      </Typography>
    );
  } else {
    const failing = status.images.filter(i => i.decision !== 'compliant');
    // Without a failing image (a configuration problem, an undecided check) the
    // entity's own reasons are the verdict's cause: say them, not a generic line.
    const entityProblems = [
      ...new Set(status.reasons.map(r => helpFor(r).problem)),
    ];
    let summary = statusView(status.decision, status.stale).explanation;
    if (failing.length > 0) {
      summary = `${failing.length} of ${status.images.length} image${
        status.images.length === 1 ? '' : 's'
      } ${failing.length === 1 ? 'fails' : 'fail'}:`;
    } else if (status.decision !== 'compliant' && entityProblems.length) {
      summary = `${entityProblems.join('; ')}${
        status.decision === 'invalid' ? ', so nothing was checked.' : '.'
      }`;
    }
    const byException = byExceptionView(status, verdict);
    body = (
      <>
        <ResidencyStatus
          decision={status.decision}
          stale={status.stale}
          variant="headline"
          byException={!!byException}
        />
        {byException && (
          <Typography variant="body2" color="textSecondary">
            {byException.explanation}
          </Typography>
        )}
        <Typography variant="body2" color="textSecondary">
          {summary}
        </Typography>
        <FailingImagesSummary status={status} />
        {status.stale && status.lastAttempt && (
          <Typography variant="body2" role="note" aria-label="Why stale">
            {staleBecause(status.lastAttempt)}
          </Typography>
        )}
        <Typography variant="body2">
          Tenant {status.tenant ?? 'none'} · checked{' '}
          {formatTime(status.checkedAt)} ·{' '}
          <Link to={tabLink}>Details, fixes and evidence</Link>
        </Typography>
      </>
    );
  }
  return (
    <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title={title}>
      {body}
    </InfoCard>
  );
}
