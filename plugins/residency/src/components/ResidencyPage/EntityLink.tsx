import { Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { parseEntityRef } from '@backstage/catalog-model';
import { displayValue } from '../common';

/** A link to an entity's catalog page; plain text when the reference does not parse. */
export function EntityLink(props: {
  entityRef: string;
  title?: string;
  /** Sub-path of the entity page, e.g. `residency` for the Residency tab. */
  subPath?: string;
  /** Visible text instead of the title (the accessible name stays descriptive). */
  children?: string;
}) {
  const entityRoute = useRouteRef(entityRouteRef);
  const name = displayValue(props.title || props.entityRef);
  let href: string | undefined;
  // Without a title, show the short name (the full ref stays the accessible name)
  let shortName: string | undefined;
  try {
    const ref = parseEntityRef(props.entityRef);
    if (!props.title) {
      shortName = displayValue(
        ref.kind.toLocaleLowerCase('en-US') === 'component' &&
          ref.namespace === 'default'
          ? ref.name
          : `${ref.kind.toLocaleLowerCase('en-US')}:${ref.namespace}/${
              ref.name
            }`,
      );
    }
    href = entityRoute({
      kind: ref.kind.toLocaleLowerCase('en-US'),
      namespace: ref.namespace.toLocaleLowerCase('en-US'),
      name: ref.name,
    });
  } catch {
    href = undefined;
  }
  if (!href) {
    return <span>{props.children ?? name}</span>;
  }
  if (props.subPath) {
    return (
      <Link
        to={`${href.replace(/\/$/, '')}/${props.subPath}`}
        aria-label={`${props.children ?? props.subPath} of ${name}`}
      >
        {props.children ?? props.subPath}
      </Link>
    );
  }
  if (shortName && shortName !== name) {
    return (
      <Link to={href} aria-label={name} title={name}>
        {shortName}
      </Link>
    );
  }
  return <Link to={href}>{name}</Link>;
}
