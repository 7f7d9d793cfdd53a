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
// the version (package.json) and the default config (config/agent.yaml); see BUNDLE in src/util/paths.ts.
const defaultConfig = await readFile(path.join(root, 'config', 'agent.yaml'), 'utf8');

/** Builds one self-contained ESM file; every bundle the project makes gets the same options. */
async function bundle(entryPoint, out) {
  await mkdir(path.dirname(out), { recursive: true });
  const result = await build({
    absWorkingDir: root,
    // From the TypeScript sources, so the bundle does not depend on a fresh `npm run build`.
    entryPoints: [entryPoint],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Some dependencies are CommonJS and call require() for Node's built-ins; an ESM file has no
    // require of its own (engineering-notes: the createRequire banner).
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    define: { CAMPAIGN_HEALTH_BUNDLE: JSON.stringify({ version, defaultConfig }) },
    // Whitespace and syntax minified, names kept: V8 holds the whole source in memory for as long as
    // the agent runs, and the unminified file (2.3 MB, its comments not pure ASCII) was held as a 4.7 MB
    // two-byte string; minified it is 1.6 MB of ASCII, and the daemon ~5 MiB smaller (bench/README.md);
    // 1.25 MB since zod's unused locales are left out (below).
    // Identifiers are not renamed, so a stack trace in the journal still names its functions.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    charset: 'ascii',
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  // A package left external would only fail on the server, at the first import: refuse it here.
  const { imports, bytes, inputs } = result.metafile.outputs[path.relative(root, out)];
  // `import { z } from 'zod'` pulls zod's namespace object and with it every locale's messages
  // (~430 KiB of the bundle, held in memory as source for as long as the agent runs); `import * as z`
  // lets esbuild keep what is used. English, zod's default, stays either way.
  const locales = Object.keys(inputs).filter((file) => /node_modules\/zod\/.*\/locales\/(?!en\.js$|index\.js$)[^/]+\.js$/.test(file));
  if (locales.length > 0) {
    console.error(`bundle: ${path.relative(root, out)} carries ${locales.length} zod locales (${locales[0]}, ...): import zod as \`import * as z from 'zod'\`, not \`import { z }\``);
    process.exit(1);
  }
  const external = imports.filter((entry) => entry.external && !isBuiltin(entry.path)).map((entry) => entry.path);
  if (external.length > 0) {
    console.error(`bundle: ${path.relative(root, out)} is not self-contained, imports ${[...new Set(external)].join(', ')}`);
    process.exit(1);
  }
  return bytes;
}

const bytes = await bundle('src/cli/main.ts', outfile);
// The agent's classes bundled the same way, for bench/cycle-runner.mjs: the cycles it measures run
// the code the service runs. Not installed (dist/bench is not in package.json "files").
await bundle('bench/agent-entry.mjs', path.join(root, 'dist', 'bench', 'agent.mjs'));
await chmod(outfile, 0o755);
console.log(`bundle: ${path.relative(root, outfile)} (campaign-health ${version}, ${Math.round(bytes / 1024)} KiB)`);
