/** Version of the verification engine recorded in every result and evidence record. @public */
export const ENGINE_VERSION = '@residency-dev/plugin-residency-node@0.1.0';
