/*
 * Issues signed VSAs for every recorded decision: when an evidence record is appended
 * (decision or inputs changed) and when a check confirms the same decision again (so
 * PASSED VSAs stay fresh; the VSA for that record is re-issued with the new time).
 * A failure to sign never changes the decision: it is logged and retried next check.
 * With `residency.vsa.publish`, each VSA is also pushed to the image's registry (when
 * it has credentials) as a cosign `.att` layer and a referrer, never replacing others'.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  isExceptionEventRecord,
  type ChainedEvidence,
  type EntityStatus,
  type EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import {
  VSA_PREDICATE_TYPE,
  buildVsaStatements,
  publishVsa,
  signVsa,
  type ResidencySettings,
  type VsaSettings,
  type VsaSigner,
} from '@residency-dev/plugin-residency-node';
import type { RecordOutcome, ResidencyStore } from '../database/ResidencyStore';
import type { VsaStore } from './VsaStore';

export class VsaIssuer {
  constructor(
    private readonly options: {
      settings: Pick<VsaSettings, 'verifierId' | 'evidenceBaseUrl'> &
        Partial<Pick<VsaSettings, 'publish'>>;
      signer: VsaSigner;
      /** Registries (with push credentials) for `residency.vsa.publish`. */
      registries?: ResidencySettings['registries'];
      fetch?: typeof fetch;
      store: Pick<ResidencyStore, 'getEvidence'>;
      vsaStore: VsaStore;
      logger?: LoggerService;
    },
  ) {}

  /** Called after every recorded evaluation; returns how many VSAs were stored. */
  async onRecorded(
    status: EntityStatus,
    outcome: RecordOutcome,
  ): Promise<number> {
    if (outcome === 'stale' || !status.evidenceId) return 0;
    try {
      return await this.issue(status.evidenceId, status.lastVerifiedAt);
    } catch (e) {
      this.options.logger?.warn(
        `Could not issue VSAs for ${status.entityRef}: ${(e as Error).message}`,
      );
      return 0;
    }
  }

  /** Builds, signs and stores the VSAs of one evidence record. */
  async issue(evidenceId: string, confirmedAt?: string): Promise<number> {
    const found = await this.options.store.getEvidence({ id: evidenceId });
    // Only decision records are verified summaries; exception events are not.
    if (!found || isExceptionEventRecord(found.evidence.record)) return 0;
    const stored = {
      ...found,
      evidence: found.evidence as ChainedEvidence<EvidenceRecord>,
    };
    const { settings, signer, vsaStore } = this.options;
    const { record } = stored.evidence;
    const timeVerified =
      confirmedAt && confirmedAt > record.result.checkedAt
        ? confirmedAt
        : undefined;
    const statements = buildVsaStatements({
      evidence: stored.evidence,
      verifierId: settings.verifierId,
      ...(settings.evidenceBaseUrl
        ? {
            evidenceUri: `${settings.evidenceBaseUrl.replace(
              /\/+$/,
              '',
            )}/${evidenceId}`,
          }
        : {}),
      ...(timeVerified ? { timeVerified } : {}),
    });
    const regions = record.result.boundary?.regions ?? [];
    for (const statement of statements) {
      const signed = await signVsa(statement, signer, regions);
      const [alg, hex] = Object.entries(statement.subject[0].digest)[0];
      await vsaStore.put({
        evidenceId,
        digest: `${alg}:${hex}`,
        entityRef: record.entityRef,
        tenant: record.result.tenant!,
        verificationResult: statement.predicate.verificationResult,
        timeVerified: statement.predicate.timeVerified,
        keyFingerprint: signed.key.fingerprint,
        envelope: signed.envelope,
        bundle: JSON.stringify(signed.bundle),
      });
      if (settings.publish) {
        await this.publish(
          record,
          `${alg}:${hex}`,
          signed.envelope,
          JSON.stringify(signed.bundle),
        );
      }
    }
    return statements.length;
  }

  /**
   * Pushes a VSA to the image's registry when that registry has push credentials;
   * failures are logged (the VSA is stored and served anyway).
   */
  private async publish(
    record: EvidenceRecord,
    digest: string,
    envelope: string,
    bundle: string,
  ): Promise<void> {
    const image = record.result.images.find(i => i.digest === digest);
    const material = record.material.find(m => m.digest === digest);
    const registry = this.options.registries?.find(
      r => r.host === image?.registry,
    );
    if (!image?.repository || !material?.manifest || !registry?.credentials) {
      this.options.logger?.info(
        `VSA for ${
          image?.reference ?? digest
        } not published: no registry with push credentials`,
      );
      return;
    }
    try {
      await publishVsa(
        {
          baseUrl: `${registry.insecure ? 'http' : 'https'}://${registry.host}`,
          repository: image.repository,
          credentials: registry.credentials,
          ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        },
        {
          subject: {
            digest,
            size: Buffer.from(material.manifest, 'base64').length,
            mediaType:
              material.manifestMediaType ??
              'application/vnd.oci.image.manifest.v1+json',
          },
          envelope,
          bundle,
          predicateType: VSA_PREDICATE_TYPE,
        },
      );
    } catch (e) {
      this.options.logger?.warn(
        `Could not publish the VSA for ${image.reference}: ${
          (e as Error).message
        }`,
      );
    }
  }
}
