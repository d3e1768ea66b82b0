export interface Config {
  /** Residency: region-bound verification of container images. */
  residency?: {
    /** Catalog groups behind the roles of the Residency permission policy. */
    roles?: {
      /** Groups whose members read evidence of and refresh the entities they own. */
      developers?: string[];
      /** Groups whose members read all evidence, tenants and mismatches. */
      auditors?: string[];
      /** Groups whose members may do everything. */
      platformOwners?: string[];
      /**
       * Groups whose members approve or reject exceptions (never their own) and read
       * all evidence, tenants and mismatches, as auditors do; default `group:default/dpo`.
       */
      dataProtectionOfficers?: string[];
    };
  };
}
