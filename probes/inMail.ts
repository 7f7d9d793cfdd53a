import * as z from 'zod';
import { pop3Check } from '../src/checks/pop3.js';
import { absolutePathSchema, durationSchema, hostSchema, portSchema, restartGraceShape } from '../src/config/schema.js';
import { daemonChecks, moduleLogCheck } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';
import { numberAttribute } from '../src/discovery/attributes.js';

const DEFAULT_POP_PERIOD_S = 300;
// inMail polls the bounce mailbox every popMailPeriodSec: three periods without a log line or
// without the mailbox being drained is more than one slow poll.
const PERIODS = 3;

export const inMail = definePlugin({
  module: 'inMail',
  scope: 'Reading of the bounce mail box',
  hint: 'Check this module if bounce mails are no longer forwarded.',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: (install, instance) => install.autoStart('inMail', instance),
  configShape: {
    ...restartGraceShape,
    logMaxAge: durationSchema.optional(),
    pop3: z
      .strictObject({
        host: hostSchema,
        port: portSchema.default(110),
        user: z.string().regex(/^[^\s\0]{1,128}$/, { error: 'expected a POP3 user name without spaces' }),
        passwordFile: absolutePathSchema,
        backlogMaxAge: durationSchema.optional(),
        maxMessages: z.number().int().positive().optional(),
        // As pop3Check: clear text by default, refused towards a host that is not loopback unless allowPlaintext.
        tls: z.enum(['none', 'implicit', 'starttls']).default('none'),
        caFile: absolutePathSchema.optional(),
        servername: hostSchema.optional(),
        allowPlaintext: z.boolean().default(false),
      })
      .optional(),
  },
  metrics: [{ value: 'mailbox_messages', name: 'campaign_inmail_mailbox_messages', help: 'Messages waiting in the bounce mailbox (POP3 STAT).', labels: ['campaign_instance'] }],
  checks(target) {
    const { config, install, instance } = target;
    const periodS = numberAttribute(install.moduleAttributes('inMail', instance), {
      module: 'inMail',
      name: 'popMailPeriodSec',
      fallback: DEFAULT_POP_PERIOD_S,
      min: 1,
      max: 7 * 24 * 3600,
    });
    const windowMs = PERIODS * periodS * 1000;
    const { pop3 } = config;
    return daemonChecks(target, [
      moduleLogCheck(target, 'inMail', config.logMaxAge ?? windowMs),
      ...(pop3
        ? [
            pop3Check({
              name: 'pop3_mailbox',
              host: pop3.host,
              port: pop3.port,
              user: pop3.user,
              passwordFile: pop3.passwordFile,
              backlogMaxAgeMs: pop3.backlogMaxAge ?? windowMs,
              ...(pop3.maxMessages ? { maxMessages: pop3.maxMessages } : {}),
              tls: pop3.tls,
              ...(pop3.caFile !== undefined ? { caFile: pop3.caFile } : {}),
              ...(pop3.servername !== undefined ? { servername: pop3.servername } : {}),
              allowPlaintext: pop3.allowPlaintext,
            }),
          ]
        : []),
    ]);
  },
});
