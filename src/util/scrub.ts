// Scrubbing of secrets shaped by their context, in foreign text a message quotes (a log line, an error):
// `password=...`, `internalPassword="..."`, `"token":"..."`, `Authorization: Bearer ...`, `user:pass@`
// in a URL, `-setdblogin:...:login/password@server`, JSON Web Tokens, private key blocks. Secrets
// known by value (a session token, a configured password) are the caller's: see redactSecrets in
// src/clients/soapSession.ts. Run before cutting a text: a cut could leave half a secret unrecognised.

export const SCRUBBED = '[redacted]';

/** A name that says "secret": `password`, `internalPassword`, `pwd`, `__sessiontoken`, `X-Security-Token`, `apiKey`... */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[-_]?key|private[-_]?key|credential)[A-Za-z0-9_.-]*`;

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Whole PEM private keys (a log line keeps them on one line with literal \n).
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[^]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, SCRUBBED],
  // Authorization schemes; a short word after `Bearer` (`realm`) is not a credential.
  [/\b(Bearer|Basic|Negotiate)([ \t]+)[A-Za-z0-9._~+/-]{12,}=*/g, `$1$2${SCRUBBED}`],
  // JSON Web Tokens, wherever they appear.
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, SCRUBBED],
  // name=value, name: value, name="value", "name":"value", name='value'.
  // A value a rule above scrubbed already (a JWT after `token=`) is left as it is.
  [new RegExp(String.raw`(${SECRET_NAME})(["']?[ \t]*[:=][ \t]*)(?!\[redacted\])("[^"]*"|'[^']*'|[^\s"'&;,<>)\]}]+)`, 'gi'), `$1$2${SCRUBBED}`],
  // <password>value</password>
  [new RegExp(String.raw`(<(${SECRET_NAME})>)[^<]*(</\2>)`, 'gi'), `$1${SCRUBBED}$3`],
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi, `$1${SCRUBBED}@`],
  // nlserver config -setdblogin:[dbms:]login/password@server
  [/(-setdblogin:(?:[^\s:/]+:)?[^\s:/]+\/)[^\s@]+@/gi, `$1${SCRUBBED}@`],
];

/** `text` with every secret of a recognisable shape replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of RULES) result = result.replace(pattern, replacement);
  return result;
}
