#!/usr/bin/env node
/*
 * Writes a minimal Backstage app OUTSIDE this repository, the way a user's app looks after
 * following the README's "Install into your Backstage app" section: a root package.json
 * with workspaces, packages/backend (catalog, permissions, guest auth, the Residency backend
 * plugin and its permission policy module) and packages/app (new frontend system with the
 * Residency frontend plugin). Our packages come from the packed tarballs; every public
 * Backstage package is pinned to the version this workspace uses.
 * Usage: node make-app.js <app dir> <tarball dir> <demo dir> <backend port>
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [appDir, tarballDir, demoDir] = process.argv
  .slice(2, 5)
  .map(p => path.resolve(p));
const port = Number(process.argv[5]);
if (!Number.isInteger(port) || port <= 0)
  throw new Error('usage: make-app.js <app> <tarballs> <demo> <port>');
const repoRoot = path.resolve(__dirname, '../..');

/** The version of a package installed in this workspace. */
function workspaceVersion(name) {
  const file = require.resolve(`${name}/package.json`, { paths: [repoRoot] });
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}
const pinned = names =>
  Object.fromEntries(names.map(n => [n, workspaceVersion(n)]));

const tarballs = Object.fromEntries(
  fs
    .readdirSync(tarballDir)
    .filter(f => f.endsWith('.tgz'))
    .map(f => {
      const name = f
        .replace(/^residency-dev-/, '@residency-dev/')
        .replace(/-\d+\.\d+\.\d+\.tgz$/, '');
      return [name, `file:${path.join(tarballDir, f)}`];
    }),
);
const ours = name => {
  if (!tarballs[name])
    throw new Error(`no tarball for ${name} in ${tarballDir}`);
  return { [name]: tarballs[name] };
};

function write(rel, content) {
  const file = path.join(appDir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    typeof content === 'string'
      ? content
      : `${JSON.stringify(content, null, 2)}\n`,
  );
}

const rootRepo = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
);

write('package.json', {
  name: 'residency-install-test-app',
  version: '0.0.0',
  private: true,
  engines: { node: '22 || 24' },
  workspaces: ['packages/*'],
  devDependencies: pinned([
    '@backstage/cli',
    '@backstage/cli-defaults',
    'typescript',
  ]),
  // The same npm settings this repository needs (see /work/shared/ENVIRONMENT.md).
  overrides: {
    ...rootRepo.overrides,
    // Our packages depend on each other by version; until they are on a registry the
    // packed tarballs stand in for them.
    ...Object.fromEntries(
      Object.entries(tarballs).filter(([n]) => !n.endsWith('residency-cli')),
    ),
  },
  allowScripts: rootRepo.allowScripts,
});
write('.npmrc', 'legacy-peer-deps=true\nfund=false\naudit=false\n');

write('packages/backend/package.json', {
  name: 'backend',
  version: '0.0.0',
  private: true,
  main: 'dist/index.cjs.js',
  types: 'src/index.ts',
  backstage: { role: 'backend' },
  scripts: { build: 'backstage-cli package build' },
  dependencies: {
    ...pinned([
      '@backstage/backend-defaults',
      '@backstage/plugin-auth-backend',
      '@backstage/plugin-auth-backend-module-guest-provider',
      '@backstage/plugin-catalog-backend',
      '@backstage/plugin-permission-backend',
      'better-sqlite3',
    ]),
    ...ours('@residency-dev/plugin-residency-backend'),
    ...ours('@residency-dev/plugin-permission-backend-module-residency-policy'),
  },
});
write(
  'packages/backend/src/index.ts',
  `import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));

// Residency
backend.add(import('@residency-dev/plugin-residency-backend'));
backend.add(
  import('@residency-dev/plugin-permission-backend-module-residency-policy'),
);

backend.start();
`,
);

write('packages/app/package.json', {
  name: 'app',
  version: '0.0.0',
  private: true,
  bundled: true,
  backstage: { role: 'frontend' },
  scripts: { build: 'backstage-cli package build' },
  dependencies: {
    ...pinned([
      '@backstage/cli',
      '@backstage/frontend-defaults',
      '@backstage/plugin-catalog',
      'react',
      'react-dom',
      'react-router',
      'react-router-dom',
    ]),
    ...ours('@residency-dev/plugin-residency'),
  },
  browserslist: { production: ['>0.2%', 'not dead', 'not op_mini all'] },
});
write(
  'packages/app/public/index.html',
  `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title><%= config.getString('app.title') %></title>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
`,
);
write(
  'packages/app/src/index.tsx',
  `import '@backstage/cli/asset-types';
import ReactDOM from 'react-dom/client';
import App from './App';

ReactDOM.createRoot(document.getElementById('root')!).render(App.createRoot());
`,
);
write(
  'packages/app/src/App.tsx',
  `import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import residencyPlugin from '@residency-dev/plugin-residency/alpha';

export default createApp({
  features: [catalogPlugin, residencyPlugin],
});
`,
);
write(
  'tsconfig.json',
  `${JSON.stringify(
    {
      extends: '@backstage/cli/config/tsconfig.json',
      include: ['packages/*/src'],
      exclude: ['node_modules'],
      compilerOptions: { outDir: 'dist-types', rootDir: '.', jsx: 'react-jsx' },
    },
    null,
    2,
  )}\n`,
);

// The app's own configuration. The demo's app-config.demo.yaml (keys, layouts, tenants:
// the residency: section) is passed before it; arrays replace, so these catalog
// locations are the only ones.
write(
  'app-config.yaml',
  `app:
  title: Residency install test
  baseUrl: http://127.0.0.1:3000
backend:
  baseUrl: http://127.0.0.1:${port}
  listen:
    host: 127.0.0.1
    port: ${port}
  database:
    client: better-sqlite3
    connection: ':memory:'
auth:
  providers:
    guest:
      userEntityRef: user:default/guest
      ownershipEntityRefs:
        - user:default/guest
        - group:default/platform-owners
      dangerouslyAllowOutsideDevelopment: true
catalog:
  rules:
    - allow: [Component, System, API, Resource, Location, Group, User]
  locations:
    - type: file
      target: ${path.join(demoDir, 'catalog/entities.yaml')}
    - type: file
      target: ${path.join(demoDir, 'catalog/org.yaml')}
permission:
  enabled: true
`,
);
console.log(`wrote a Backstage app in ${appDir}`);
