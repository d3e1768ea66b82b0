/*
 * Issues signed VSAs for every recorded decision: when an evidence record is appended
 * (decision or inputs changed) and when a check confirms the same decision again (so
 * PASSED VSAs stay fresh; the VSA for that record is re-issued with the new time).
 * A failure to sign never changes the decision: it is logged and retried next check.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import {
  buildVsaStatements,
  signVsa,
  type VsaSettings,
  type VsaSigner,
} from '@residency-dev/plugin-residency-node';
import type { RecordOutcome, ResidencyStore } from '../database/ResidencyStore';
import type { VsaStore } from './VsaStore';

export class VsaIssuer {
  constructor(
    private readonly options: {
      settings: Pick<VsaSettings, 'verifierId' | 'evidenceBaseUrl'>;
      signer: VsaSigner;
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
    const stored = await this.options.store.getEvidence({ id: evidenceId });
    if (!stored) return 0;
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
    }
    return statements.length;
  }
}
