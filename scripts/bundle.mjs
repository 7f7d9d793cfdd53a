#!/usr/bin/env node
// `npm run bundle`: dist/bundle/campaign-health.mjs, the whole agent in one file that runs on Node 20
// without node_modules — what systemd/install.sh puts on a Campaign server, which may have no internet.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'bundle', 'campaign-health.mjs');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
// The bundle is installed alone, so it carries what src/ reads from the package at run time:
// the version (package.json) and the default config (config/agent.yaml); see BUNDLE in src/paths.ts.
const defaultConfig = await readFile(path.join(root, 'config', 'agent.yaml'), 'utf8');

await mkdir(path.dirname(outfile), { recursive: true });
const result = await build({
  absWorkingDir: root,
  // From the TypeScript sources, so the bundle does not depend on a fresh `npm run build`.
  entryPoints: ['src/cli.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Some dependencies are CommonJS and call require() for Node's built-ins; an ESM file has no
  // require of its own (engineering-notes: the createRequire banner).
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { CAMPAIGN_HEALTH_BUNDLE: JSON.stringify({ version, defaultConfig }) },
  // Not minified: operators read stack traces in the journal.
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

// A package left external would only fail on the server, at the first import: refuse it here.
const { imports } = result.metafile.outputs[path.relative(root, outfile)];
const external = imports.filter((entry) => entry.external && !isBuiltin(entry.path)).map((entry) => entry.path);
if (external.length > 0) {
  console.error(`bundle: not self-contained, imports ${[...new Set(external)].join(', ')}`);
  process.exit(1);
}
await chmod(outfile, 0o755);
console.log(`bundle: ${path.relative(root, outfile)} (campaign-health ${version}, ${Math.round(result.metafile.outputs[path.relative(root, outfile)].bytes / 1024)} KiB)`);
