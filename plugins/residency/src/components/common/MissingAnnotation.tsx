import { CopyTextButton, EmptyState } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_REGION,
  ANNOTATION_TENANT,
} from '@residency-dev/plugin-residency-common';

/** The example shown to owners of entities without the annotations. */
export const CATALOG_INFO_EXAMPLE = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    ${ANNOTATION_IMAGES}: registry.eu.example.com/team/payments@sha256:<digest>
    ${ANNOTATION_TENANT}: eu-sovereign
    ${ANNOTATION_REGION}: eusc-de-east-1
spec:
  type: service
  lifecycle: production
  owner: team-payments
`;

// The example in the theme's own colours (a syntax highlighter's dark palette
// puts its strings below AA contrast), wrapping its long image line instead of
// hiding it behind a horizontal scroll.
const useStyles = makeStyles(theme => ({
  example: {
    position: 'relative',
    backgroundColor: theme.palette.background.default,
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
  },
  code: {
    margin: 0,
    padding: theme.spacing(2, 6, 2, 2),
    color: theme.palette.text.primary,
    fontFamily: 'monospace',
    fontSize: theme.typography.body2.fontSize,
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
  },
  copy: {
    position: 'absolute',
    top: theme.spacing(0.5),
    right: theme.spacing(0.5),
  },
}));

/** A friendly explanation of how to opt in, with a copyable example. */
export function MissingAnnotation() {
  const classes = useStyles();
  return (
    <EmptyState
      missing="field"
      title="Residency is not set up for this entity"
      description={`Add the ${ANNOTATION_IMAGES} annotation (the container images this service runs) and the ${ANNOTATION_TENANT} annotation (the tenant whose legal boundary applies) to catalog-info.yaml. The ${ANNOTATION_REGION} annotation is optional.`}
      action={
        <Box className={classes.example}>
          <pre className={classes.code} aria-label="Example catalog-info.yaml">
            {CATALOG_INFO_EXAMPLE}
          </pre>
          <Box className={classes.copy}>
            <CopyTextButton
              text={CATALOG_INFO_EXAMPLE}
              tooltipText="Copied"
              aria-label="Copy the example"
            />
          </Box>
        </Box>
      }
    />
  );
}
