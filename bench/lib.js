/*
 * Shared helpers of the Residency benchmark: loads the real engine and signing kit
 * from their TypeScript sources, builds the residency configuration, and small
 * timing/statistics utilities.
 */
'use strict';

require('@backstage/cli-node/config/nodeTransform.cjs');

const engine = require('@residency-dev/plugin-residency-node');
// Source internals (limits) are not exported by the package; read them from its tree.
const source = require('../plugins/residency-node/src/source');
const kit = require('@residency-dev/signing-kit');
const common = require('@residency-dev/plugin-residency-common');

const EU_REGION = 'eusc-de-east-1';
const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';
const TENANT = 'acme-eu';
const MiB = 1024 * 1024;

/** The `residency:` block used by every measurement (one EU key, one tenant). */
function residencyConfig({
  publicKeyPem,
  layouts = [],
  registries = [],
  imagesPerEntity,
}) {
  const config = kit.ResidencyConfigBuilder.create()
    .boundary('eu-sovereign', [EU_REGION])
    .key({ id: EU_KEY_ID, publicKey: publicKeyPem })
    .tenant(TENANT, {
      boundary: 'eu-sovereign',
      require: ['signature', 'provenance', 'sbom'],
      allowedHosts: [
        'git.eu.example.com',
        'builder.eu.example.com',
        'slsa.dev',
        'residency.dev',
        '*.eu.example.com',
      ],
    });
  for (const r of registries) config.registry(r);
  for (const l of layouts) config.layout(l.path, l.region);
  if (imagesPerEntity) config.limits({ imagesPerEntity });
  return config.build();
}

function settingsOf(cfg) {
  return engine.loadResidencySettings(
    engine.configReaderFromObject({ residency: cfg }),
  );
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(
    s.length - 1,
    Math.max(0, Math.ceil((p / 100) * s.length) - 1),
  );
  return s[i];
}

const mb = bytes => bytes / MiB;

/**
 * Watches RSS from now on, sampling every `intervalMs`. stop() returns the peak:
 * the highest sample, the RSS at stop, and the kernel's high-water mark when it
 * moved meanwhile (it catches spikes the sampler may miss, and only says
 * something about this span if it moved during it).
 */
function watchRss(intervalMs) {
  const baseRss = process.memoryUsage().rss;
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  let peak = baseRss;
  const timer = setInterval(() => {
    const r = process.memoryUsage().rss;
    if (r > peak) peak = r;
  }, intervalMs);
  return {
    baseRss,
    stop() {
      clearInterval(timer);
      const rssAfter = process.memoryUsage().rss;
      if (rssAfter > peak) peak = rssAfter;
      const maxRssAfter = process.resourceUsage().maxRSS * 1024;
      if (maxRssAfter > maxRssBefore && maxRssAfter > peak) peak = maxRssAfter;
      return peak;
    },
  };
}

module.exports = {
  engine,
  source,
  kit,
  common,
  EU_REGION,
  EU_KEY_ID,
  TENANT,
  MiB,
  residencyConfig,
  settingsOf,
  now,
  percentile,
  mb,
  watchRss,
};
