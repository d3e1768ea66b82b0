import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import Chip from '@material-ui/core/Chip';
import type {
  AttestationKind,
  AttestationResult,
  ImageResult,
  SignatureResult,
} from '@residency-dev/plugin-residency-common';
import { ResidencyStatus, formatTime } from './status';
import { ReasonList } from './ReasonList';
import { ShortDigest } from './ShortDigest';
import { SafeLink, displayValue } from './SafeLink';

const useStyles = makeStyles(theme => ({
  root: {
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
    padding: theme.spacing(1.5),
    marginBottom: theme.spacing(1.5),
  },
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
  },
  reference: { fontFamily: 'monospace', wordBreak: 'break-all' },
  grid: {
    display: 'grid',
    gridTemplateColumns: 'minmax(110px, max-content) 1fr',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
    margin: theme.spacing(1, 0),
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, wordBreak: 'break-word' },
  },
  mono: { fontFamily: 'monospace', wordBreak: 'break-all' },
  chips: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5) },
}));

const KINDS: AttestationKind[] = ['provenance', 'sbom', 'residency'];
const KIND_LABEL: Record<AttestationKind, string> = {
  provenance: 'Provenance',
  sbom: 'SBOM',
  residency: 'Residency',
};

function SignatureLine(props: { signature?: SignatureResult; full: boolean }) {
  const classes = useStyles();
  const { signature, full } = props;
  if (!signature) {
    return <span>No signature found</span>;
  }
  if (!signature.verified) {
    return (
      <span>
        Found, not verified
        {signature.error ? `: ${displayValue(signature.error.message)}` : ''}
      </span>
    );
  }
  if (signature.key) {
    return (
      <span>
        Verified by key{' '}
        <span className={classes.mono}>{displayValue(signature.key.id)}</span>{' '}
        in region <strong>{displayValue(signature.key.region)}</strong>
        {full && (
          <>
            {' '}
            (fingerprint{' '}
            <span className={classes.mono}>
              {displayValue(signature.key.fingerprint)}
            </span>
            , {signature.format}, found via {signature.source})
          </>
        )}
      </span>
    );
  }
  return (
    <span>
      Verified keyless
      {signature.identity
        ? ` for ${displayValue(
            signature.identity.subject,
          )} (issuer ${displayValue(signature.identity.issuer)})`
        : ''}
    </span>
  );
}

function attestationText(att: AttestationResult | undefined): string {
  if (!att) {
    return 'not found';
  }
  if (!att.verified) {
    return `found, not verified${
      att.error ? `: ${displayValue(att.error.message)}` : ''
    }`;
  }
  return att.key
    ? `verified (key region ${displayValue(att.key.region)})`
    : 'verified';
}

/** Everything known about one image: digest, signature, attestations, registry, reasons. */
export function ImageDetails(props: { image: ImageResult; full?: boolean }) {
  const classes = useStyles();
  const { image, full = false } = props;
  const verifiedSignature =
    image.signatures.find(s => s.verified) ?? image.signatures[0];
  const byKind = (kind: AttestationKind) =>
    image.attestations.find(a => a.kind === kind && a.verified) ??
    image.attestations.find(a => a.kind === kind);
  const claims = Object.entries(image.claims ?? {}).slice(0, 30);

  return (
    <section className={classes.root} aria-label={`Image ${image.reference}`}>
      <div className={classes.header}>
        <Typography
          variant="subtitle2"
          component="h4"
          className={classes.reference}
        >
          {displayValue(image.reference)}
        </Typography>
        <ResidencyStatus decision={image.decision} />
      </div>
      <dl className={classes.grid}>
        <dt>Digest</dt>
        <dd>
          <ShortDigest
            digest={image.digest}
            label={`digest of ${image.reference}`}
          />
        </dd>
        <dt>Registry</dt>
        <dd>
          {displayValue(image.registry ?? 'unknown')}
          {' · region '}
          <strong>
            {displayValue(image.registryRegion ?? 'not configured')}
          </strong>
        </dd>
        <dt>Signature</dt>
        <dd>
          <SignatureLine signature={verifiedSignature} full={full} />
        </dd>
        <dt>Attestations</dt>
        <dd>
          <div className={classes.chips}>
            {KINDS.map(kind => {
              const att = byKind(kind);
              const text = `${KIND_LABEL[kind]}: ${attestationText(att)}`;
              return (
                <Chip
                  key={kind}
                  size="small"
                  variant="outlined"
                  color={att?.verified ? 'primary' : 'default'}
                  label={text}
                />
              );
            })}
          </div>
        </dd>
        {full && (
          <>
            <dt>Signatures found</dt>
            <dd>{image.signatures.length}</dd>
            {image.attestations.length > 0 && (
              <>
                <dt>Attestation details</dt>
                <dd>
                  <ul style={{ margin: 0, paddingLeft: 18 }}>
                    {image.attestations.map((att, i) => (
                      <li key={i}>
                        <span className={classes.mono}>
                          {displayValue(att.predicateType)}
                        </span>{' '}
                        ({att.kind}, {att.source}): {attestationText(att)}
                        {att.key && (
                          <>
                            {' '}
                            key{' '}
                            <span className={classes.mono}>
                              {displayValue(att.key.id)}
                            </span>
                          </>
                        )}
                        {Object.entries(att.facts ?? {})
                          .slice(0, 20)
                          .map(([k, v]) => (
                            <div key={k}>
                              {displayValue(k)}: <SafeLink value={v} />
                            </div>
                          ))}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
            <dt>Verified at</dt>
            <dd>{formatTime(image.verifiedAt)}</dd>
          </>
        )}
        {claims.length > 0 && (
          <>
            <dt>Claimed (unsigned)</dt>
            <dd>
              {claims.map(([k, v]) => (
                <div key={k}>
                  {displayValue(k)}: <SafeLink value={v} />
                </div>
              ))}
              <Typography variant="caption" color="textSecondary">
                Unsigned claims are shown for information and never decide
                residency.
              </Typography>
            </dd>
          </>
        )}
      </dl>
      <ReasonList
        reasons={image.reasons}
        label={`Reasons for ${image.reference}`}
      />
    </section>
  );
}
