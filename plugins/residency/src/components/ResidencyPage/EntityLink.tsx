import { Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { parseEntityRef } from '@backstage/catalog-model';
import { displayValue } from '../common';

/** A link to an entity's catalog page; plain text when the reference does not parse. */
export function EntityLink(props: { entityRef: string; title?: string }) {
  const entityRoute = useRouteRef(entityRouteRef);
  const label = displayValue(props.title || props.entityRef);
  let href: string | undefined;
  try {
    const ref = parseEntityRef(props.entityRef);
    href = entityRoute({
      kind: ref.kind.toLocaleLowerCase('en-US'),
      namespace: ref.namespace.toLocaleLowerCase('en-US'),
      name: ref.name,
    });
  } catch {
    href = undefined;
  }
  if (!href) {
    return <span>{label}</span>;
  }
  return <Link to={href}>{label}</Link>;
}
