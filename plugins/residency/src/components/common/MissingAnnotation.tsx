import { CodeSnippet, EmptyState } from '@backstage/core-components';
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

/** A friendly explanation of how to opt in, with a copyable example. */
export function MissingAnnotation() {
  return (
    <EmptyState
      missing="field"
      title="Residency is not set up for this entity"
      description={`Add the ${ANNOTATION_IMAGES} annotation (the container images this service runs) and the ${ANNOTATION_TENANT} annotation (the tenant whose legal boundary applies) to catalog-info.yaml. The ${ANNOTATION_REGION} annotation is optional.`}
      action={
        <CodeSnippet
          text={CATALOG_INFO_EXAMPLE}
          language="yaml"
          showCopyCodeButton
        />
      }
    />
  );
}
