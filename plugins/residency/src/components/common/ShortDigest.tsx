import { CopyTextButton } from '@backstage/core-components';
import { makeStyles } from '@material-ui/core/styles';

const useStyles = makeStyles({
  root: { display: 'inline-flex', alignItems: 'center', gap: 4 },
  mono: { fontFamily: 'monospace', wordBreak: 'break-all' },
});

/** `sha256:0123456789ab` from a full digest (or the text, bounded, if it is not one). */
export function shortDigest(digest: string): string {
  const match = /^([a-z0-9]+):([0-9a-f]+)$/.exec(digest);
  if (match) {
    return `${match[1]}:${match[2].slice(0, 12)}`;
  }
  return digest.length > 24 ? `${digest.slice(0, 24)}…` : digest;
}

/** A short digest with a button that copies the full digest. */
export function ShortDigest(props: { digest?: string; label?: string }) {
  const classes = useStyles();
  const { digest, label = 'digest' } = props;
  if (!digest) {
    return <span>not resolved</span>;
  }
  return (
    <span className={classes.root}>
      <span className={classes.mono} title={digest}>
        {shortDigest(digest)}
      </span>
      <CopyTextButton
        text={digest}
        aria-label={`Copy ${label}`}
        tooltipText="Digest copied to clipboard"
      />
    </span>
  );
}
