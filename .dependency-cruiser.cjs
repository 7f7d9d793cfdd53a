/**
 * Dependency rules, checked by `npm test` (`npm run deps`). Dependencies point one way:
 * probes → checks → clients → util, with core (contracts, plan, runner, store, scheduler) importing
 * contracts and types only. The composition root (src/agent, src/cli) may import anything.
 * Type-only imports count: a cycle through types is still a cycle in the design.
 */

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'No import cycle, type-only imports included.', from: {}, to: { circular: true } },
    {
      name: 'core-imports-contracts-only',
      severity: 'error',
      comment: 'core/ never imports a feature implementation; from clients/ it may name leaf type files only.',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/(core|config|util)/', '^src/clients/nlserver/types[.]ts$', '^src/clients/soapTypes[.]ts$'], path: '^(src|probes)/' },
    },
    {
      name: 'util-is-a-leaf',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^(src|probes)/', pathNot: '^src/util/' },
    },
    {
      name: 'config-below-core',
      severity: 'error',
      comment: 'The config schema is read by core and probes; it depends on util only.',
      from: { path: '^src/config/' },
      to: { path: '^(src|probes)/', pathNot: '^src/(config|util)/' },
    },
    {
      name: 'clients-below-checks',
      severity: 'error',
      comment: 'Protocol clients (HTTP, XML, SOAP, commands, nlserver) know nothing of checks, probes or the engine.',
      from: { path: '^src/clients/' },
      to: { path: '^(src|probes)/', pathNot: '^src/(clients|util)/' },
    },
    {
      name: 'checks-below-probes',
      severity: 'error',
      comment: 'Check primitives never import probes, the engine implementation or the outputs.',
      from: { path: '^src/checks/' },
      to: { path: ['^probes/', '^src/(agent|cli|http|output|metrics|restarts)/', '^src/core/(plan|runner|store|scheduler|states)\\.ts$'] },
    },
    {
      name: 'probes-declare-only',
      severity: 'error',
      comment: 'A probe declares what to check through the check primitives and contracts.',
      from: { path: '^probes/' },
      to: { path: ['^src/(agent|cli|http|output|metrics|restarts)/', '^src/core/(plan|runner|store|scheduler)\\.ts$'] },
    },
    {
      name: 'only-the-root-knows-probes',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(agent|cli)/' },
      to: { path: '^probes/' },
    },
    {
      name: 'outputs-do-not-import-each-other-upwards',
      severity: 'error',
      comment: 'http/ serves what output/ renders; output/ never imports http/, agent/ or cli/.',
      from: { path: '^src/(output|metrics)/' },
      to: { path: '^src/(http|agent|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
