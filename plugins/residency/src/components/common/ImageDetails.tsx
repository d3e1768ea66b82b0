import type { ReactNode } from 'react';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import Accordion from '@material-ui/core/Accordion';
import AccordionSummary from '@material-ui/core/AccordionSummary';
import AccordionDetails from '@material-ui/core/AccordionDetails';
import ExpandMoreIcon from '@material-ui/icons/ExpandMore';
import { CopyTextButton } from '@backstage/core-components';
import {
  DECISION_SEVERITY,
  type AttestationKind,
  type AttestationResult,
  type ImageResult,
  type SignatureResult,
} from '@residency-dev/plugin-residency-common';
import { ResidencyStatus, formatTime } from './status';
import { ReasonList } from './ReasonList';
import { SafeLink, displayValue } from './SafeLink';
import type { ReasonContext } from './advice';
import { VerificationChecklist } from './VerificationChecklist';

const useStyles = makeStyles(theme => ({
  root: {
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
    padding: theme.spacing(1.5),
    marginBottom: theme.spacing(1.5),
    minWidth: 0,
    overflowWrap: 'anywhere',
  },
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
    marginBottom: theme.spacing(1),
  },
  reference: {
    fontFamily: 'monospace',
    overflowWrap: 'anywhere',
    minWidth: 0,
  },
  grid: {
    display: 'grid',
    gridTemplateColumns: 'minmax(90px, max-content) minmax(0, 1fr)',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.75),
    margin: 0,
    width: '100%',
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, minWidth: 0, overflowWrap: 'anywhere' },
  },
  mono: { fontFamily: 'monospace', overflowWrap: 'anywhere' },
  copyable: { display: 'flex', alignItems: 'flex-start', gap: 4 },
  accordion: {
    boxShadow: 'none',
    border: `1px solid ${theme.palette.divider}`,
    '&:before': { display: 'none' },
    marginTop: theme.spacing(1),
  },
  summaryContent: {
    minWidth: 0,
    overflowWrap: 'anywhere',
    alignItems: 'center',
  },
  // MUI pulls the icon 12px into the padding, which overflows the summary row
  expandIcon: { marginRight: 0 },
  details: { display: 'block', minWidth: 0 },
  attList: { margin: 0, paddingLeft: theme.spacing(2) },
}));

const KINDS: AttestationKind[] = ['provenance', 'sbom', 'residency'];
const KIND_LABEL: Record<AttestationKind, string> = {
  provenance: 'Provenance',
  sbom: 'SBOM',
  residency: 'Residency',
};

/** True when the registry was never read for this image (nothing was fetched). */
export function neverFetched(image: ImageResult): boolean {
  return !image.digest && !image.verifiedAt && image.signatures.length === 0;
}

/** A full value (digest, key id, URI) in monospace that wraps, with a copy button. */
export function Copyable(props: { value: string; label: string }) {
  const classes = useStyles();
  return (
    <span className={classes.copyable}>
      <span className={classes.mono}>{displayValue(props.value)}</span>
      <CopyTextButton
        text={props.value}
        aria-label={`Copy ${props.label}`}
        tooltipText="Copied to clipboard"
      />
    </span>
  );
}

function signatureText(
  image: ImageResult,
  signature: SignatureResult | undefined,
): ReactNode {
  if (neverFetched(image)) {
    return 'Not checked: the image could not be read from the registry';
  }
  if (!signature) {
    return 'No signature found';
  }
  if (!signature.verified) {
    return `Found, not verified${
      signature.error ? `: ${displayValue(signature.error.message)}` : ''
    }`;
  }
  if (signature.key) {
    return (
      <>
        Verified, key in region{' '}
        <strong>{displayValue(signature.key.region)}</strong>
      </>
    );
  }
  return `Verified keyless${
    signature.identity
      ? ` for ${displayValue(
          signature.identity.subject,
        )} (issuer ${displayValue(signature.identity.issuer)})`
      : ''
  }`;
}

function attestationText(
  image: ImageResult,
  att: AttestationResult | undefined,
): string {
  if (neverFetched(image)) {
    return 'not checked';
  }
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

/** The raw facts of one image: digest, registry, keys, attestations, predicate facts. */
export function ImageFacts(props: { image: ImageResult }) {
  const classes = useStyles();
  const { image } = props;
  const signature =
    image.signatures.find(s => s.verified) ?? image.signatures[0];
  const byKind = (kind: AttestationKind) =>
    image.attestations.find(a => a.kind === kind && a.verified) ??
    image.attestations.find(a => a.kind === kind);
  const claims = Object.entries(image.claims ?? {}).slice(0, 30);
  return (
    <dl className={classes.grid}>
      <dt>Digest</dt>
      <dd>
        {image.digest ? (
          <Copyable
            value={image.digest}
            label={`digest of ${image.reference}`}
          />
        ) : (
          'not resolved'
        )}
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
      <dd>{signatureText(image, signature)}</dd>
      {signature?.key && (
        <>
          <dt>Key id</dt>
          <dd>
            <Copyable value={signature.key.id} label="key id" />
          </dd>
          <dt>Fingerprint</dt>
          <dd>
            <Copyable
              value={signature.key.fingerprint}
              label="key fingerprint"
            />
          </dd>
          <dt>Format</dt>
          <dd>
            {displayValue(signature.format)}, found via{' '}
            {displayValue(signature.source)}
          </dd>
        </>
      )}
      <dt>Signatures found</dt>
      <dd>{neverFetched(image) ? 'not checked' : image.signatures.length}</dd>
      {KINDS.map(kind => (
        <ReactFragmentRow
          key={kind}
          term={`${KIND_LABEL[kind]} attestation`}
          value={attestationText(image, byKind(kind))}
        />
      ))}
      {image.attestations.length > 0 && (
        <>
          <dt>Attestation details</dt>
          <dd>
            <ul className={classes.attList}>
              {image.attestations.map((att, i) => (
                <li key={i}>
                  <span className={classes.mono}>
                    {displayValue(att.predicateType)}
                  </span>{' '}
                  ({att.kind}, {att.source}): {attestationText(image, att)}
                  {att.key && (
                    <div>
                      key <Copyable value={att.key.id} label="key id" />
                    </div>
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
      {image.verifiedAt && (
        <>
          <dt>Signatures fetched</dt>
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
  );
}

function ReactFragmentRow(props: { term: string; value: ReactNode }) {
  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.value}</dd>
    </>
  );
}

/**
 * One image: its reference and verdict; when it fails, every reason in plain
 * words with the fix; the raw facts folded below.
 */
export function ImageDetails(props: {
  image: ImageResult;
  context?: ReasonContext;
  /** Open the raw details initially. */
  full?: boolean;
}) {
  const classes = useStyles();
  const { image, context, full = false } = props;
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
      <ReasonList
        reasons={image.reasons}
        label={`Reasons for ${image.reference}`}
        context={{ ...context, image }}
        compact
      />
      <Accordion className={classes.accordion} defaultExpanded={full}>
        <AccordionSummary
          expandIcon={<ExpandMoreIcon />}
          classes={{
            content: classes.summaryContent,
            expandIcon: classes.expandIcon,
          }}
        >
          <Typography variant="body2">
            Details: digest, keys, attestations
          </Typography>
        </AccordionSummary>
        <AccordionDetails className={classes.details}>
          <ImageFacts image={image} />
        </AccordionDetails>
      </Accordion>
      <VerificationChecklist
        report={image.report}
        subject={`image ${image.reference}`}
      />
    </section>
  );
}

/** Images with the worst first (failing before passing). */
export function sortImages(images: ImageResult[]): ImageResult[] {
  return images
    .map((image, index) => ({ image, index }))
    .sort(
      (a, b) =>
        DECISION_SEVERITY[b.image.decision] -
          DECISION_SEVERITY[a.image.decision] ||
        // unknown (1) sorts below invalid/non-compliant, above compliant
        a.index - b.index,
    )
    .map(x => x.image);
}

/**
 * Every image of an entity: failing ones first and open, with reasons and
 * fixes; passing ones folded under one summary.
 */
export function ImageList(props: {
  images: ImageResult[];
  context?: ReasonContext;
  full?: boolean;
}) {
  const classes = useStyles();
  const sorted = sortImages(props.images);
  const failing = sorted.filter(i => i.decision !== 'compliant');
  const passing = sorted.filter(i => i.decision === 'compliant');
  if (failing.length === 0 && passing.length === 1) {
    // one passing image: nothing to fold it away from
    return <ImageDetails image={passing[0]} context={props.context} />;
  }
  return (
    <div>
      {failing.map((image, i) => (
        <ImageDetails
          key={`${image.reference}-${i}`}
          image={image}
          context={props.context}
          full={props.full}
        />
      ))}
      {passing.length > 0 && (
        <Accordion
          className={classes.accordion}
          defaultExpanded={failing.length === 0 && passing.length === 1}
        >
          <AccordionSummary
            expandIcon={<ExpandMoreIcon />}
            classes={{
              content: classes.summaryContent,
              expandIcon: classes.expandIcon,
            }}
          >
            <ResidencyStatus decision="compliant" />
            <Typography
              variant="body1"
              component="span"
              style={{ marginLeft: 8 }}
            >
              {passing.length === 1
                ? '· 1 image passes'
                : `· ${passing.length} images pass`}
            </Typography>
          </AccordionSummary>
          <AccordionDetails className={classes.details}>
            {passing.map((image, i) => (
              <ImageDetails
                key={`${image.reference}-${i}`}
                image={image}
                context={props.context}
              />
            ))}
          </AccordionDetails>
        </Accordion>
      )}
    </div>
  );
}
