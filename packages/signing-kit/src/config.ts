/*
 * One builder for the `residency:` configuration of tests, benchmarks, the demo
 * portal and the end-to-end run, so the four do not each write the object by hand
 * (and drift from config.d.ts). It builds plain data; the engine validates it.
 */

/**
 * A key entry of `residency.keys`. The entry types repeat the shape of
 * residency-backend's config.d.ts on purpose: the kit does not depend on the
 * backend, and config.d.ts is Backstage's schema source, which cannot import.
 */
export interface ResidencyKeyConfig {
  id: string;
  region?: string;
  publicKey?: string;
  publicKeyFile?: string;
  validFrom?: string;
  validUntil?: string;
  revoked?: boolean;
}

/** A tenant of `residency.tenants`. */
export interface ResidencyTenantConfig {
  boundary: string;
  require?: ('signature' | 'provenance' | 'sbom' | 'residency')[];
  allowedHosts?: string[];
  rules?: { id: string; expression: string; message?: string }[];
  identities?: {
    subject?: string;
    subjectRegExp?: string;
    issuer: string;
    region: string;
  }[];
}

/** A registry of `residency.registries`. */
export interface ResidencyRegistryConfig {
  host: string;
  region: string;
  insecure?: boolean;
  credentials?: { token?: string; username?: string; password?: string };
}

/** The `residency:` block as data (the keys of residency-backend's config.d.ts). */
export interface ResidencyConfigData {
  boundaries: Record<string, string[]>;
  registries: ResidencyRegistryConfig[];
  layouts?: { path: string; region: string }[];
  keys: ResidencyKeyConfig[];
  trustedRoots?: { name?: string; path?: string; publicGood?: boolean }[];
  tenants: Record<string, ResidencyTenantConfig>;
  limits?: Record<string, number>;
  [backendKey: string]: unknown;
}

/** Builds a `residency:` block step by step; `build()` returns a fresh copy. */
export class ResidencyConfigBuilder {
  readonly #data: ResidencyConfigData = {
    boundaries: {},
    registries: [],
    keys: [],
    tenants: {},
  };

  static create(): ResidencyConfigBuilder {
    return new ResidencyConfigBuilder();
  }

  boundary(name: string, regions: string[]): this {
    this.#data.boundaries[name] = [...regions];
    return this;
  }

  registry(registry: ResidencyRegistryConfig): this {
    this.#data.registries.push({ ...registry });
    return this;
  }

  layout(path: string, region: string): this {
    (this.#data.layouts ??= []).push({ path, region });
    return this;
  }

  key(key: ResidencyKeyConfig): this {
    this.#data.keys.push({ ...key });
    return this;
  }

  trustedRoot(root: {
    name?: string;
    path?: string;
    publicGood?: boolean;
  }): this {
    (this.#data.trustedRoots ??= []).push({ ...root });
    return this;
  }

  tenant(name: string, tenant: ResidencyTenantConfig): this {
    this.#data.tenants[name] = structuredClone(tenant);
    return this;
  }

  limits(limits: Record<string, number>): this {
    this.#data.limits = { ...this.#data.limits, ...limits };
    return this;
  }

  /** Backend-only keys (`schedule`, `deltaSchedule`, `revalidateAfter`, `retention`, `roles`). */
  backend(settings: Record<string, unknown>): this {
    Object.assign(this.#data, structuredClone(settings));
    return this;
  }

  build(): ResidencyConfigData {
    return structuredClone(this.#data);
  }
}
