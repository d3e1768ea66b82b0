import type { EntityResult, EvidenceRecord, ImageMaterial, ImageResult } from '@residency-dev/plugin-residency-common';
import type { ResidencySettings } from './api';

/** Pure inputs of a decision: everything comes from configuration snapshots. */
export interface DecisionContext {
  policy: EvidenceRecord['policy'];
  trust: EvidenceRecord['trust'];
  trustedRoots: NonNullable<ResidencySettings['trustedRoots']>;
  tenantKnown: boolean;
  limits: ResidencySettings['limits'];
  at: Date;
  engineVersion: string;
  policyHash: string;
  trustHash: string;
}

/** One image: its material, and a previous result when reused. */
export interface ImageInput {
  material: ImageMaterial;
  reused?: ImageResult;
}

export function decideEntity(opts: {
  entityRef: string;
  tenant?: string;
  declaredRegion?: string;
  images: string[];
  inputs: ImageInput[];
  ctx: DecisionContext;
}): EntityResult {
  return {
    entityRef: opts.entityRef,
    decision: 'unknown',
    reasons: [],
    images: [],
    policyHash: opts.ctx.policyHash,
    trustHash: opts.ctx.trustHash,
    engineVersion: opts.ctx.engineVersion,
    checkedAt: opts.ctx.at.toISOString(),
  };
}
