import * as z from 'zod';
import { processCountCheck } from '../src/checks/processCount.js';
import { smtpCheck } from '../src/checks/smtp.js';
import { absolutePathSchema, durationSchema, hostSchema, portSchema, restartGraceShape } from '../src/config/schema.js';
import { daemonChecks, moduleLogCheck } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';

// mta@<instance> polls the database for deliveries and hands messages to mtachild workers, which
// exist only while something is being sent.
export const mta = definePlugin({
  module: 'mta',
  scope: 'Delivers emails',
  hint: 'Check this module if mails are no longer being sent.',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: (install, instance) => install.autoStart('mta', instance),
  configShape: {
    ...restartGraceShape,
    // Every module writes at least its start lines at the daily restart: a day without any is wrong.
    logMaxAge: durationSchema.prefault('25h'),
    smtp: z
      .strictObject({
        host: hostSchema,
        port: portSchema.default(25),
        slowResponse: durationSchema.prefault('5s'),
        // As smtpCheck: no TLS by default (the relay check sends no credentials).
        tls: z.enum(['none', 'implicit', 'starttls']).default('none'),
        caFile: absolutePathSchema.optional(),
        servername: hostSchema.optional(),
      })
      .optional(),
  },
  metrics: [{ value: 'mta_children', name: 'campaign_mta_children', help: 'mtachild processes of the instance; 0 while no delivery runs is normal.', labels: ['campaign_instance'] }],
  checks(target) {
    const { config, instance } = target;
    const { smtp } = config;
    return daemonChecks(target, [
      processCountCheck({ name: 'children', module: 'mtachild', instance, value: 'mta_children' }),
      moduleLogCheck(target, 'mta', config.logMaxAge),
      ...(smtp ? [smtpCheck({
              name: 'smtp_relay',
              host: smtp.host,
              port: smtp.port,
              slowMs: smtp.slowResponse,
              tls: smtp.tls,
              ...(smtp.caFile !== undefined ? { caFile: smtp.caFile } : {}),
              ...(smtp.servername !== undefined ? { servername: smtp.servername } : {}),
            })] : []),
    ]);
  },
});
