import { useCallback, useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  CodeSnippet,
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import { makeStyles } from '@material-ui/core/styles';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import GetAppIcon from '@material-ui/icons/GetApp';
import { Alert } from '@material-ui/lab';
import {
  residencyEvidenceReadPermission,
  type EntityStatus,
  type EvidenceSummary,
} from '@residency-dev/plugin-residency-common';
import { problemFor, staleBecause } from '../common/advice';
import { residencyApiRef } from '../../api';
import {
  ResidencyStatus,
  ShortDigest,
  decisionLabel,
  displayValue,
  formatTime,
  CARD_TITLE_PROPS,
} from '../common';

const useStyles = makeStyles(theme => ({
  timeline: { listStyle: 'none', margin: 0, padding: 0 },
  entry: {
    position: 'relative',
    borderLeft: `2px solid ${theme.palette.divider}`,
    padding: theme.spacing(0.5, 0, 1.5, 2),
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'flex-start',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
  },
  meta: { color: theme.palette.text.secondary },
  event: { color: theme.palette.text.primary },
  mono: { fontFamily: 'monospace', wordBreak: 'break-all' },
  actions: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
}));

/** The command an auditor runs to re-verify a bundle offline. */
export const VERIFY_COMMAND =
  'npx @residency-dev/residency-cli verify-evidence <file>.json';

/** The command for a file just downloaded; names with unusual characters are quoted. */
export function verifyCommandFor(filename?: string): string {
  if (!filename) {
    return VERIFY_COMMAND;
  }
  const arg = /^[A-Za-z0-9._-]+$/.test(filename)
    ? filename
    : `'${filename.replace(/'/g, `'\\''`)}'`;
  return `npx @residency-dev/residency-cli verify-evidence ${arg}`;
}

function ChainResult(props: { entityRef: string }) {
  const api = useApi(residencyApiRef);
  const state = useAsync(
    () => api.verifyChain({ entityRef: props.entityRef }),
    [api, props.entityRef],
  );

  if (state.loading) {
    return <Progress />;
  }
  if (state.error || !state.value) {
    return (
      <Alert severity="warning">
        Chain integrity could not be checked:{' '}
        {state.error?.message ?? 'no result'}
      </Alert>
    );
  }
  const result = state.value;
  if (result.ok) {
    return (
      <Alert severity="success">
        Chain intact: all {result.length} records link to each other and their
        hashes match.
      </Alert>
    );
  }
  return (
    <Alert severity="error">
      Chain broken
      {result.brokenAt
        ? ` at record ${result.brokenAt.sequence}: ${displayValue(
            result.brokenAt.problem,
          )}`
        : ''}
      . Records from that point on cannot be trusted as an unbroken history.
    </Alert>
  );
}

const EVENT_LABELS: Record<string, { label: string; byActor: boolean }> = {
  'exception.requested': { label: 'Exception requested', byActor: true },
  'exception.approved': { label: 'Exception approved', byActor: true },
  'exception.rejected': { label: 'Exception rejected', byActor: true },
  'exception.revoked': { label: 'Exception revoked', byActor: true },
  'exception.expired': { label: 'Exception expired', byActor: false },
  'exception.applied': {
    label: 'Resident by exception applied',
    byActor: false,
  },
};

/**
 * What an exception event record says, in words ("Exception approved by
 * pat-platform"); an unknown kind is named as it is.
 */
export function eventLabel(entry: Pick<EvidenceSummary, 'kind' | 'actor'>) {
  const known = entry.kind ? EVENT_LABELS[entry.kind] : undefined;
  if (!known) {
    return `Event ${displayValue(entry.kind ?? 'unknown')}`;
  }
  if (known.byActor && entry.actor) {
    return `${known.label} by ${displayValue(
      entry.actor.replace(/^user:(default\/)?/, ''),
    )}`;
  }
  return known.label;
}

function reasonsOf(codes: string[]): string {
  return codes
    .map(code => `${problemFor(code)} (${displayValue(code)})`)
    .join('; ');
}

/** The evidence timeline for an entity, with downloads and chain verification. */
export function EvidenceHistory(props: {
  entityRef: string;
  /** The entity's status: when stale, the history says why no newer record exists. */
  status?: Pick<EntityStatus, 'stale' | 'lastAttempt'>;
}) {
  const { entityRef, status } = props;
  const classes = useStyles();
  const api = useApi(residencyApiRef);
  const permission = usePermission({
    permission: residencyEvidenceReadPermission,
    resourceRef: entityRef,
  });
  const [items, setItems] = useState<EvidenceSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [downloadError, setDownloadError] = useState<string | undefined>();
  const [downloading, setDownloading] = useState<string | undefined>();
  const [lastFile, setLastFile] = useState<string | undefined>();
  /** Per record id: the VSA file saved, or `null` when the portal issued none. */
  const [vsaFiles, setVsaFiles] = useState<Record<string, string | null>>({});

  const load = useCallback(
    async (cursor?: string) => {
      setLoading(true);
      setError(undefined);
      try {
        const page = await api.listEvidence({ entityRef, cursor, limit: 20 });
        setItems(prev => (cursor ? [...prev, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
      } catch (e) {
        setError(e as Error);
      } finally {
        setLoading(false);
      }
    },
    [api, entityRef],
  );

  useEffect(() => {
    if (permission.allowed) {
      load();
    }
  }, [permission.allowed, load]);

  const download = async (entry: EvidenceSummary) => {
    setDownloadError(undefined);
    setDownloading(entry.id);
    try {
      const saved = await api.downloadEvidence({
        id: entry.id,
        entityRef,
        sequence: entry.sequence,
      });
      setLastFile(saved?.filename);
    } catch (e) {
      setDownloadError(
        `Download of record ${entry.sequence} failed: ${(e as Error).message}`,
      );
    } finally {
      setDownloading(undefined);
    }
  };

  const downloadVsa = async (entry: EvidenceSummary) => {
    setDownloadError(undefined);
    setDownloading(`vsa:${entry.id}`);
    try {
      const saved = await api.downloadVsa({
        id: entry.id,
        entityRef,
        sequence: entry.sequence,
      });
      setVsaFiles(prev => ({ ...prev, [entry.id]: saved?.filename ?? null }));
    } catch (e) {
      setDownloadError(
        `Download of the verification summary of record ${
          entry.sequence
        } failed: ${(e as Error).message}`,
      );
    } finally {
      setDownloading(undefined);
    }
  };

  if (permission.loading) {
    return (
      <InfoCard
        titleTypographyProps={CARD_TITLE_PROPS}
        title="Evidence history"
      >
        <Progress />
      </InfoCard>
    );
  }
  if (!permission.allowed) {
    return (
      <InfoCard
        titleTypographyProps={CARD_TITLE_PROPS}
        title="Evidence history"
      >
        <Typography variant="body2">
          Evidence history and downloads are available to auditors and platform
          owners. You can see the current status above; ask your platform team
          for the residency evidence permission if you need the signed records.
        </Typography>
      </InfoCard>
    );
  }

  return (
    <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title="Evidence history">
      <Typography variant="subtitle1" component="h3" gutterBottom>
        Chain integrity
      </Typography>
      <ChainResult entityRef={entityRef} />
      <Typography
        variant="subtitle1"
        component="h3"
        gutterBottom
        style={{ marginTop: 16 }}
      >
        Decisions and exception events
      </Typography>
      {status?.stale && status.lastAttempt && (
        <Alert severity="warning" aria-label="Why no newer record">
          {staleBecause(status.lastAttempt)} No record is written for a check
          that could not decide; the newest record below still stands.
        </Alert>
      )}
      {downloadError && (
        <Alert severity="error" role="alert">
          {downloadError}
        </Alert>
      )}
      {error && (
        <ResponseErrorPanel
          error={error}
          title="Could not load the evidence history"
        />
      )}
      {!error && !loading && items.length === 0 && (
        <EmptyState
          missing="data"
          title="No evidence yet"
          description="Evidence is recorded when the entity is first checked and whenever a decision or its inputs change."
        />
      )}
      {items.length > 0 && (
        <ol className={classes.timeline} aria-label="Evidence timeline">
          {items.map(entry => (
            <li key={entry.id} className={classes.entry}>
              <div>
                <Typography variant="body2" component="div">
                  <strong>#{entry.sequence}</strong>{' '}
                  {entry.kind ? (
                    <strong className={classes.event}>
                      {eventLabel(entry)}
                    </strong>
                  ) : (
                    <ResidencyStatus decision={entry.decision} />
                  )}{' '}
                  <span className={classes.meta}>
                    {formatTime(entry.createdAt)}
                  </span>
                  {entry.checkpoint && ' · checkpoint'}
                </Typography>
                {entry.kind ? (
                  <Typography
                    variant="body2"
                    component="div"
                    className={classes.meta}
                  >
                    {entry.reasonCodes.length
                      ? `Covers: ${reasonsOf(entry.reasonCodes)}. `
                      : ''}
                    Not a new decision; the decision in force was{' '}
                    {decisionLabel(entry.decision)}.
                  </Typography>
                ) : (
                  <Typography
                    variant="body2"
                    component="div"
                    className={classes.meta}
                  >
                    {entry.reasonCodes.length
                      ? reasonsOf(entry.reasonCodes)
                      : 'No problems found'}
                  </Typography>
                )}
                <Typography
                  variant="body2"
                  component="div"
                  className={classes.meta}
                >
                  Record hash:{' '}
                  <ShortDigest
                    digest={entry.recordHash}
                    label={`record hash of record ${entry.sequence}`}
                  />
                </Typography>
              </div>
              <div className={classes.actions}>
                <Button
                  size="small"
                  variant="outlined"
                  startIcon={<GetAppIcon />}
                  onClick={() => download(entry)}
                  disabled={downloading === entry.id}
                  aria-label={`Download evidence record ${entry.sequence}`}
                >
                  Download
                </Button>
                <Button
                  size="small"
                  startIcon={<GetAppIcon />}
                  onClick={() => downloadVsa(entry)}
                  disabled={downloading === `vsa:${entry.id}`}
                  aria-label={`Download verification summary of record ${entry.sequence}`}
                >
                  VSA
                </Button>
                {entry.id in vsaFiles && (
                  <Typography
                    variant="caption"
                    component="div"
                    className={classes.meta}
                  >
                    {vsaFiles[entry.id] === null
                      ? 'No summary'
                      : `Saved ${vsaFiles[entry.id]}`}
                  </Typography>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
      {loading && <Progress />}
      {nextCursor && !loading && (
        <Button
          size="small"
          onClick={() => load(nextCursor)}
          aria-label="Load older evidence records"
        >
          Load older records
        </Button>
      )}
      <Typography
        variant="subtitle1"
        component="h3"
        gutterBottom
        style={{ marginTop: 16 }}
      >
        Re-verify offline
      </Typography>
      <Typography variant="body2" paragraph>
        {lastFile
          ? `Re-verify ${lastFile} without the portal:`
          : 'Download a record, then re-verify it without the portal:'}
      </Typography>
      <CodeSnippet
        text={verifyCommandFor(lastFile)}
        language="bash"
        showCopyCodeButton
      />
    </InfoCard>
  );
}
