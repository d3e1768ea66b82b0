/*
 * The ArtifactSource the engine uses: routes `oci:` layout references to the layout
 * source and registry references to the client of an allow-listed registry. A
 * reference whose host is not configured fails with `registry_not_allowed` before any
 * network activity.
 */
import { formatImageReference, parseImageReference } from '../reference';
import {
  startImageDeadline,
  withDeadline,
  type ImageDeadline,
} from './deadline';
import { discoverIn } from './discovery';
import type { HealthSlot, RegistryHealth } from './health';
import { PoolSet } from './pool';
import { OciLayout } from './layout';
import { parseManifest } from './oci';
import {
  resolveFetchOptions,
  resolveLimits,
  type FetchOptions,
  type SourceLimits,
} from './limits';
import { RegistryClient } from './registry';
import {
  SourceError,
  type ArtifactSource,
  type Discovery,
  type ImageReference,
  type RegistryAccess,
  type ResolvedImage,
} from './types';

/** Options of {@link createArtifactSource}. */
export interface ArtifactSourceOptions {
  /** The allow-list: the only registries ever contacted (host[:port] matched exactly). */
  registries: readonly RegistryAccess[];
  limits?: Partial<SourceLimits>;
  fetchOptions?: Partial<FetchOptions>;
  /**
   * Directories OCI layouts must lie in. Undefined: any path (CLI use); an empty list
   * refuses every layout reference (a portal reading catalog annotations should set it).
   */
  layoutRoots?: readonly string[];
  /**
   * Registry health for the first cycle (e.g. a `RegistryCircuit`); replace it per
   * cycle with `newCycle({ health })`.
   */
  health?: RegistryHealth;
}

/** An ArtifactSource that owns keep-alive pools; `close()` releases them. */
export interface ClosableArtifactSource extends ArtifactSource {
  close(): Promise<void>;
  /** The client of an allow-listed registry host, if configured. */
  registryClient(host: string): RegistryClient | undefined;
  /**
   * Starts a refresh cycle: forgets per-cycle memory (registries without a referrers
   * API are asked again) and, when given, installs the cycle's registry health (a
   * fresh `RegistryCircuit` per cycle; `undefined` removes it).
   */
  newCycle(options?: { health?: RegistryHealth }): void;
}

/**
 * Re-validates a reference that may not come from our parser (hand-built objects):
 * its canonical text must parse back to the same registry, repository, tag and digest.
 */
function revalidate(ref: ImageReference): ImageReference {
  if (!ref || typeof ref !== 'object') {
    throw new SourceError('bad_reference', 'Invalid image reference');
  }
  let again: ImageReference;
  try {
    again = parseImageReference(formatImageReference(ref));
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError('bad_reference', 'Invalid image reference');
  }
  const same =
    again.kind === ref.kind &&
    again.registry === ref.registry &&
    (ref.kind === 'layout' || again.repository === ref.repository) &&
    again.digest === ref.digest &&
    (ref.digest !== undefined || again.tag === (ref.tag ?? 'latest'));
  if (!same)
    throw new SourceError(
      'bad_reference',
      'Image reference is not in canonical form',
    );
  return ref;
}

function mediaTypeOk(mediaType: string): boolean {
  return [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
  ].includes(mediaType);
}

/** Creates the source used by the engine. */
export function createArtifactSource(
  options: ArtifactSourceOptions,
): ClosableArtifactSource {
  const limits = resolveLimits(options.limits);
  const fetch = resolveFetchOptions(options.fetchOptions);
  const pools = new PoolSet(fetch, limits.concurrencyPerRegistry);
  const health: HealthSlot = { current: options.health };
  const clients = new Map<string, RegistryClient>();
  // The deadline started when an image was resolved, carried on to its discovery.
  const deadlines = new WeakMap<ResolvedImage, ImageDeadline>();
  for (const r of options.registries) {
    const host = r.host.toLowerCase();
    if (clients.has(host)) continue;
    clients.set(
      host,
      new RegistryClient({
        registry: { ...r, host },
        limits,
        fetchOptions: fetch,
        pools,
        health,
      }),
    );
  }

  function clientFor(ref: ImageReference): RegistryClient {
    const client = clients.get(ref.registry);
    if (!client) {
      throw new SourceError(
        'registry_not_allowed',
        `Registry ${ref.registry.slice(
          0,
          100,
        )} is not in the configured allow-list`,
        { registry: ref.registry.slice(0, 100) },
      );
    }
    return client;
  }

  async function resolve(
    input: ImageReference,
    signal?: AbortSignal,
  ): Promise<ResolvedImage> {
    const ref = revalidate(input);
    if (ref.kind === 'layout') {
      const layout = await OciLayout.open(
        ref.registry,
        limits,
        options.layoutRoots,
      );
      const m = ref.digest
        ? await layout.manifestByDigest(ref.digest, limits.manifestBytes)
        : await layout.manifestByTag(ref.tag ?? 'latest', limits.manifestBytes);
      if (!m) {
        throw new SourceError(
          'not_found',
          `Tag ${ref.tag} not found in the OCI layout`,
          { tag: ref.tag },
        );
      }
      return {
        reference: ref,
        digest: m.digest,
        manifest: m.bytes,
        mediaType: m.mediaType,
      };
    }
    const client = clientFor(ref);
    const deadline = startImageDeadline(
      fetch.imageTimeoutMs,
      `image ${formatImageReference(ref).slice(0, 300)}`,
    );
    const resolved = await resolveInRegistry(
      client,
      ref,
      withDeadline(deadline, signal),
    ).catch(e => {
      deadline.clear();
      throw e;
    });
    deadlines.set(resolved, deadline);
    return resolved;
  }

  async function resolveInRegistry(
    client: RegistryClient,
    ref: ImageReference,
    signal: AbortSignal,
  ): Promise<ResolvedImage> {
    const m = await client.getManifest(
      ref.repository,
      ref.digest ?? ref.tag ?? 'latest',
      { signal },
    );
    if (!m) throw new SourceError('not_found', 'Image manifest not found');
    if (!mediaTypeOk(m.mediaType)) {
      throw new SourceError(
        'registry_unreachable',
        `Unsupported manifest media type ${m.mediaType.slice(0, 80)}`,
        {
          problem: 'malformed_manifest',
        },
      );
    }
    // Structure check now, so a broken image manifest fails here and not mid-discovery.
    parseManifest(
      m.bytes,
      m.mediaType,
      Number.MAX_SAFE_INTEGER,
      'image manifest',
    );
    return {
      reference: ref,
      digest: m.digest,
      manifest: m.bytes,
      mediaType: m.mediaType,
    };
  }

  async function discover(
    image: ResolvedImage,
    signal?: AbortSignal,
  ): Promise<Discovery> {
    const ref = revalidate(image.reference);
    if (ref.kind === 'layout') {
      const layout = await OciLayout.open(
        ref.registry,
        limits,
        options.layoutRoots,
      );
      return discoverIn(layout, image, limits, signal);
    }
    const client = clientFor(ref);
    const deadline =
      deadlines.get(image) ??
      startImageDeadline(
        fetch.imageTimeoutMs,
        `image ${formatImageReference(ref).slice(0, 300)}`,
      );
    try {
      return await discoverIn(
        client.store(ref.repository),
        image,
        limits,
        withDeadline(deadline, signal),
      );
    } finally {
      deadline.clear();
      deadlines.delete(image);
    }
  }

  return {
    resolve,
    discover,
    registryClient: host => clients.get(host.toLowerCase()),
    newCycle: (cycle = {}) => {
      for (const c of clients.values()) c.newCycle();
      if ('health' in cycle) health.current = cycle.health;
    },
    close: () => pools.close(),
  };
}
