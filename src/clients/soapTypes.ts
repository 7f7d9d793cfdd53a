// What a SOAP query answers, as data: the contract between the session (soapSession.ts) and the
// checks and core contracts that name it. Types only.

export interface QueryResult {
  /**
   * One record per element of the answer: the children of `<S-collection>` for a select, the single
   * element for a get or a count. Keys are attribute names as Campaign writes them (`@internalName`
   * selects `internalName`); values stay text.
   */
  rows: Array<Record<string, string>>;
  /** The `count` attribute of a count answer (`<workflow count="3"/>`). */
  count?: number;
}

/** What `serverInfo` of a Logon answer says of the server, each value one short line; absent when not said. */
export interface ServerInfo {
  /** `buildNumber`, e.g. `9364`. */
  build?: string;
  /** `releaseName`, e.g. `7.3.4` or `20.3` (v7 reports `majNumber="6" minNumber="7"`, so those are not given). */
  release?: string;
  /** `instanceName`. */
  instance?: string;
}

/** The outcome of one Logon then Logoff (logonAndLogoff). */
export interface LogonProbe {
  /** Milliseconds from sending the Logon to the end of its answer. */
  logonMs: number;
  server: ServerInfo;
  /** The Logoff after the successful Logon: a failure here leaves the session to expire on the server. */
  logoff: { ok: true } | { ok: false; reason: string };
}
