import type { Knex } from 'knex';

/** Table of the stored VSAs (see migrations/20261201090000_vsa.js). */
export const T_VSA = 'residency_vsa';

/** One stored VSA. */
export interface StoredVsa {
  evidenceId: string;
  digest: string;
  entityRef: string;
  tenant: string;
  verificationResult: 'PASSED' | 'FAILED';
  timeVerified: string;
  keyFingerprint: string;
  /** DSSE envelope JSON text. */
  envelope: string;
  /** Sigstore bundle v0.3 JSON text. */
  bundle: string;
}

interface VsaRow {
  evidence_id: string;
  digest: string;
  entity_ref: string;
  tenant: string;
  verification_result: string;
  time_verified: string;
  key_fingerprint: string;
  envelope: string;
  bundle: string;
}

/** Where VSAs live; keyed by evidence record and digest. */
export interface VsaStore {
  /** Inserts or replaces (a confirmed decision re-issues with a newer timeVerified). */
  put(vsa: StoredVsa): Promise<void>;
  listForEvidence(options: { evidenceId: string }): Promise<StoredVsa[]>;
}

/** Knex implementation; the table is created by the plugin's migrations. */
export class DatabaseVsaStore implements VsaStore {
  constructor(private readonly db: Knex) {}

  async put(vsa: StoredVsa): Promise<void> {
    const row: VsaRow = {
      evidence_id: vsa.evidenceId,
      digest: vsa.digest,
      entity_ref: vsa.entityRef,
      tenant: vsa.tenant,
      verification_result: vsa.verificationResult,
      time_verified: vsa.timeVerified,
      key_fingerprint: vsa.keyFingerprint,
      envelope: vsa.envelope,
      bundle: vsa.bundle,
    };
    await this.db(T_VSA)
      .insert({ ...row, created_at: this.db.fn.now() })
      .onConflict(['evidence_id', 'digest'])
      .merge([
        'verification_result',
        'time_verified',
        'key_fingerprint',
        'envelope',
        'bundle',
        'created_at',
      ]);
  }

  async listForEvidence(options: { evidenceId: string }): Promise<StoredVsa[]> {
    const rows = await this.db<VsaRow>(T_VSA)
      .where({ evidence_id: options.evidenceId })
      .orderBy('digest');
    return rows.map(r => ({
      evidenceId: r.evidence_id,
      digest: r.digest,
      entityRef: r.entity_ref,
      tenant: r.tenant,
      verificationResult:
        r.verification_result === 'PASSED' ? 'PASSED' : 'FAILED',
      timeVerified: r.time_verified,
      keyFingerprint: r.key_fingerprint,
      envelope: r.envelope,
      bundle: r.bundle,
    }));
  }
}
