import { useState } from 'react';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormGroup from '@material-ui/core/FormGroup';
import FormLabel from '@material-ui/core/FormLabel';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import {
  isWaivableReasonCode,
  type EntityStatus,
  type ExceptionVerdict,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import { CARD_TITLE_PROPS } from '../common';
import { useResidencySignal } from '../common/useResidencySignal';

const useStyles = makeStyles(theme => ({
  // Its own colour: never the green of "Resident", never the red of "Not resident".
  byException: {
    display: 'inline-block',
    padding: theme.spacing(0.5, 1.5),
    borderRadius: theme.shape.borderRadius,
    border: `2px dashed ${theme.palette.secondary.main}`,
    color: theme.palette.secondary.main,
    fontWeight: 700,
  },
  row: { marginBottom: theme.spacing(1.5) },
  actions: { '& > *': { marginRight: theme.spacing(1) } },
}));

function Verdict({ verdict }: { verdict: ExceptionVerdict }) {
  const classes = useStyles();
  if (verdict.state !== 'resident_by_exception') return null;
  return (
    <Box mb={2}>
      <span className={classes.byException} role="status">
        Resident by exception — not resident without it
      </span>
      <Typography variant="body2" component="div">
        <ul aria-label="What was waived">
          {verdict.waived.map(w => (
            <li key={`${w.exceptionId}-${w.digest}`}>
              Waived {w.reasonCodes.join(', ')} for {w.digest.slice(0, 19)}…,
              requested by {w.requestedBy}, approved by {w.approvedBy}, until{' '}
              {new Date(w.expiresAt).toLocaleString()}
            </li>
          ))}
        </ul>
      </Typography>
    </Box>
  );
}

function RequestForm(props: {
  status: EntityStatus;
  onSubmit: (r: {
    reasonCodes: string[];
    digests: string[];
    justification: string;
    reference: string;
  }) => Promise<void>;
}) {
  const failing = props.status.images.filter(
    i => i.decision === 'non_compliant' && i.digest,
  );
  const codes = [
    ...new Set(failing.flatMap(i => i.reasons.map(r => r.code as string))),
  ].filter(isWaivableReasonCode);
  const [chosenCodes, setCodes] = useState<string[]>(codes);
  const [digests, setDigests] = useState<string[]>(failing.map(i => i.digest!));
  const [justification, setJustification] = useState('');
  const [reference, setReference] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  if (failing.length === 0 || codes.length === 0) return null;
  const toggle = (list: string[], v: string) =>
    list.includes(v) ? list.filter(x => x !== v) : [...list, v];
  return (
    <Box component="form" mt={2} aria-label="Request an exception">
      <Typography variant="h6">Request an exception</Typography>
      <FormLabel component="legend">Reason codes to waive</FormLabel>
      <FormGroup row>
        {codes.map(c => (
          <FormControlLabel
            key={c}
            control={
              <Checkbox
                checked={chosenCodes.includes(c)}
                onChange={() => setCodes(toggle(chosenCodes, c))}
              />
            }
            label={c}
          />
        ))}
      </FormGroup>
      <FormLabel component="legend">Image digests covered</FormLabel>
      <FormGroup>
        {failing.map(i => (
          <FormControlLabel
            key={i.digest}
            control={
              <Checkbox
                checked={digests.includes(i.digest!)}
                onChange={() => setDigests(toggle(digests, i.digest!))}
              />
            }
            label={`${i.reference} (${i.digest!.slice(0, 19)}…)`}
          />
        ))}
      </FormGroup>
      <TextField
        id="residency-exception-justification"
        label="Justification"
        fullWidth
        multiline
        margin="dense"
        value={justification}
        onChange={e => setJustification(e.target.value)}
      />
      <TextField
        id="residency-exception-reference"
        label="Ticket or legal reference"
        fullWidth
        margin="dense"
        value={reference}
        onChange={e => setReference(e.target.value)}
      />
      <Typography variant="caption" component="p">
        Expires after the tenant's longest window (7 days unless configured).
        Another person with the approve permission must approve it.
      </Typography>
      {error && <ResponseErrorPanel error={error} title="Request refused" />}
      <Button
        variant="outlined"
        color="primary"
        disabled={
          busy ||
          chosenCodes.length === 0 ||
          digests.length === 0 ||
          justification.trim().length < 3 ||
          reference.trim().length < 3
        }
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await props.onSubmit({
              reasonCodes: chosenCodes,
              digests,
              justification,
              reference,
            });
            setJustification('');
            setReference('');
          } catch (e) {
            setError(e as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        Request exception
      </Button>
    </Box>
  );
}

/**
 * Exceptions of an entity: the "resident by exception" verdict with what was
 * waived, by whom and until when; the list; approve/reject/revoke for permitted
 * users (the backend enforces it; the buttons only follow it); and a request form.
 */
export function ExceptionsCard(props: {
  entityRef: string;
  status?: EntityStatus;
  /** Called after a request, approval, rejection or revocation. */
  onChange?: () => void;
}) {
  const classes = useStyles();
  const api = useApi(residencyApiRef);
  // requested, approved, rejected, revoked or expired by someone else
  const signals = useResidencySignal(props.entityRef);
  const [actionError, setActionError] = useState<Error>();
  const state = useAsyncRetry(async () => {
    if (!api.listExceptions) return undefined;
    const list = await api.listExceptions({ entityRef: props.entityRef });
    return { ...list, me: list.viewer };
  }, [api, props.entityRef, signals]);

  const act = async (
    e: ResidencyException,
    action: 'approve' | 'reject' | 'revoke',
  ) => {
    setActionError(undefined);
    try {
      await api.decideException!({ id: e.id, action });
      state.retry();
      props.onChange?.();
    } catch (err) {
      setActionError(err as Error);
    }
  };

  if (!api.listExceptions) return null;
  return (
    <InfoCard titleTypographyProps={CARD_TITLE_PROPS} title="Exceptions">
      {state.loading && <Progress />}
      {state.error && (
        <ResponseErrorPanel
          error={state.error}
          title="Could not load the exceptions"
        />
      )}
      {actionError && (
        <ResponseErrorPanel error={actionError} title="Action refused" />
      )}
      {state.value?.verdict && <Verdict verdict={state.value.verdict} />}
      {state.value && state.value.items.length === 0 && (
        <Typography variant="body2">No exceptions.</Typography>
      )}
      {state.value?.items.map(e => (
        <Box key={e.id} className={classes.row}>
          <Typography variant="body2">
            <strong>{e.status}</strong> — waives {e.reasonCodes.join(', ')} for{' '}
            {e.digests.length} digest{e.digests.length === 1 ? '' : 's'} until{' '}
            {new Date(e.expiresAt).toLocaleString()} ({e.reference}); requested
            by {e.requestedBy}
            {e.decidedBy ? `, ${e.status} by ${e.decidedBy}` : ''}.
          </Typography>
          <Typography variant="caption">{e.justification}</Typography>
          <div className={classes.actions}>
            {e.status === 'requested' &&
              state.value!.canApprove &&
              e.requestedBy !== state.value!.me && (
                <>
                  <Button
                    size="small"
                    color="primary"
                    onClick={() => act(e, 'approve')}
                  >
                    Approve
                  </Button>
                  <Button size="small" onClick={() => act(e, 'reject')}>
                    Reject
                  </Button>
                </>
              )}
            {e.status === 'approved' && e.envelope && (
              <Button
                size="small"
                href={`data:application/json;charset=utf-8,${encodeURIComponent(
                  e.envelope,
                )}`}
                download={`exception-${e.id}.json`}
              >
                Download signed exception
              </Button>
            )}
            {(e.status === 'approved' || e.status === 'requested') &&
              (state.value!.canApprove ||
                e.requestedBy === state.value!.me) && (
                <Button size="small" onClick={() => act(e, 'revoke')}>
                  Revoke
                </Button>
              )}
          </div>
        </Box>
      ))}
      {props.status && api.requestException && (
        <RequestForm
          status={props.status}
          onSubmit={async r => {
            await api.requestException!({
              entityRef: props.entityRef,
              request: r,
            });
            state.retry();
            props.onChange?.();
          }}
        />
      )}
    </InfoCard>
  );
}
