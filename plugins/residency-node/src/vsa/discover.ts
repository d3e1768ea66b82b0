/*
 * The gate over a registry or layout: resolve the reference once, discover what is
 * attached to the digest (cosign `.att` entries and OCI referrers, through the
 * engine's own sources), and let verifyVsa decide. Source failures (I/O, auth, not
 * found) are thrown as SourceError: "could not decide", never a pass.
 */
import { parseImageReference } from '../reference';
import type { ArtifactSource } from '../source/types';
import {
  verifyVsa,
  type VerifyVsaOptions,
  type VsaVerification,
} from './verify';

/** Options of {@link verifyVsaForImage}. @public */
export interface VerifyVsaForImageOptions
  extends Omit<VerifyVsaOptions, 'digest' | 'envelopes' | 'bundles'> {
  source: ArtifactSource;
  /** `registry/repo[:tag][@digest]` or `oci:<layout>[:tag|@digest]`. */
  reference: string;
  signal?: AbortSignal;
}

/** @public */
export async function verifyVsaForImage(
  options: VerifyVsaForImageOptions,
): Promise<VsaVerification & { digest: string }> {
  const { source, reference, signal, ...rest } = options;
  const ref = parseImageReference(reference);
  const image = await source.resolve(ref, signal);
  const found = await source.discover(image, signal);
  const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  const result = verifyVsa({
    ...rest,
    digest: image.digest,
    envelopes: found.envelopes.map(e => ({
      envelope: text(e.envelope),
      source: e.source,
    })),
    bundles: found.bundles.map(b => ({
      bundle: text(b.bundle),
      source: b.source,
    })),
  });
  return { ...result, digest: image.digest };
}
