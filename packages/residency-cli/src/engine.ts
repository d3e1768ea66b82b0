import type { KeyObject } from 'node:crypto';
/*
 * The only place the CLI touches the verification engine. Commands receive an
 * `EngineApi` so the command layer can be unit-tested alone; the default one is the
 * real engine (@residency-dev/plugin-residency-node), the same the backend runs.
 */
import type {
  ChainedEvidence,
  EvidenceBundle,
  EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import type {
  BundleVerification,
  ConfigReader,
  ResidencyEngine,
  ResidencySettings,
} from '@residency-dev/plugin-residency-node';

export type {
  BundleVerification,
  ConfigReader,
  ResidencyEngine,
  ResidencySettings,
};

/** The engine functions the CLI calls. */
export interface EngineApi {
  loadResidencySettings(
    reader: ConfigReader,
    options: { baseDir: string },
  ): ResidencySettings | Promise<ResidencySettings>;
  createEngine(
    settings: ResidencySettings,
  ): ResidencyEngine | Promise<ResidencyEngine>;
  chainRecord(
    record: EvidenceRecord,
    previous: ChainedEvidence | null,
  ): ChainedEvidence;
  verifyEvidenceBundle(
    bundle: EvidenceBundle,
    options: {
      settings?: ResidencySettings;
      scope?: 'configuration' | 'keys';
      /** Keys trusted to sign exceptions (absent: the keys the record names). */
      exceptionKeys?: readonly KeyObject[];
    },
  ): BundleVerification | Promise<BundleVerification>;
  /** Splits a `residency.dev/images` value into references, as the backend does. */
  splitImagesAnnotation(value: string): string[];
  /** True for the engine's typed configuration error (carries `code`). */
  isConfigError(e: unknown): e is Error & { code: string };
  engineVersion?: string;
}

/** The real engine, loaded on first use. */
export function defaultEngineApi(): EngineApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const node = require('@residency-dev/plugin-residency-node');
  return {
    loadResidencySettings: (reader, options) =>
      node.loadResidencySettings(reader, options),
    createEngine: settings => node.DefaultResidencyEngine.create({ settings }),
    chainRecord: (record, previous) => node.chainRecord(record, previous),
    verifyEvidenceBundle: (bundle, options) =>
      node.verifyEvidenceBundle(bundle, options),
    splitImagesAnnotation: value => node.splitImagesAnnotation(value),
    isConfigError: (e): e is Error & { code: string } =>
      typeof node.ResidencyConfigError === 'function' &&
      e instanceof node.ResidencyConfigError,
  };
}
