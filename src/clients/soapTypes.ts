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
