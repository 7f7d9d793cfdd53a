import * as z from 'zod';
import { httpGetCheck, redirTestExpectation, soapCheck, socketCheck } from '../src/checks/index.js';
import { logonCheck } from '../src/checks/logon.js';
import { portAttribute } from '../src/discovery/attributes.js';
import { durationSchema, restartGraceShape, urlSchema } from '../src/config/schema.js';
import { daemonChecks } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';

const DEFAULT_HTTP_PORT = 8080;
const DEFAULT_CONTROL_PORT = 8005;

// A query without a session: harmless (no login attempt is recorded). The session Fault it expects
// proves Tomcat, the web module and its SOAP router are serving; a database Fault is critical, any
// other Fault a warning (classifySoapFault).
const SOAP_ACTION = 'xtk:queryDef#ExecuteQuery';
const SOAP_ENVELOPE =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:queryDef">' +
  '<soapenv:Header/><soapenv:Body><urn:ExecuteQuery><urn:sessiontoken></urn:sessiontoken><urn:entity>' +
  '<queryDef schema="xtk:workflow" operation="count"/></urn:entity></urn:ExecuteQuery></soapenv:Body></soapenv:Envelope>';

export const web = definePlugin({
  module: 'web',
  scope: 'Application server (HTTP and SOAP)',
  hint: "Check this module if the console and web connections don't work and trigger an **xtk:session** type error",
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: (install) => install.autoStart('web'),
  configShape: {
    ...restartGraceShape,
    baseUrl: urlSchema.optional(),
    rTest: z.boolean().default(true),
    soap: z.boolean().default(true),
    slowResponse: durationSchema.prefault('2s'),
  },
  checks(target) {
    const { install, config, campaign } = target;
    const attributes = install.moduleAttributes('web');
    // A placeholder or junk throws: the row is unknown naming the attribute, no default port is probed.
    const httpPort = portAttribute(attributes, 'web', 'httpPort', DEFAULT_HTTP_PORT);
    const controlPort = portAttribute(attributes, 'web', 'controlPort', DEFAULT_CONTROL_PORT);
    const base = (config.baseUrl ?? `http://127.0.0.1:${httpPort}`).replace(/\/+$/, '');
    const soapRouter = `${base}/nl/jsp/soaprouter.jsp`;
    const slowMs = config.slowResponse;
    // With campaign.soap's operator: a real Logon then Logoff. Web is one row per machine, SOAP clients
    // are per URL: campaign.soap.url when set, else this web's own soaprouter.
    const logonClient = target.logonClient?.(campaign.soap.url ?? soapRouter);
    // One web per machine: any `nlserver web` counts, whatever -instance flag it carries.
    return daemonChecks(target, [
      socketCheck({ proto: 'tcp', port: httpPort, name: 'http_port', addresses: 'any' }),
      // Tomcat's control port accepts a shutdown command: only ever look at the socket table.
      socketCheck({ proto: 'tcp', port: controlPort, name: 'control_port', addresses: 'any' }),
      ...(config.rTest ? [httpGetCheck({ name: 'r_test', url: `${base}/r/test`, expect: redirTestExpectation, slowMs })] : []),
      ...(config.soap
        ? [soapCheck({ name: 'soap', url: soapRouter, action: SOAP_ACTION, envelope: SOAP_ENVELOPE, slowMs })]
        : []),
      ...(logonClient ? [logonCheck({ name: 'logon', client: logonClient, slowMs })] : []),
    ]);
  },
});
