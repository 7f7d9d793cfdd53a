import { BlockList, isIP } from 'node:net';
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { SocketInfo, SocketProto } from '../core/contracts.js';
import { readProcFile } from './procfs.js';

/** TCP states as numbered in include/net/tcp_states.h, named like `ss` names them. */
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
};

/** UDP reuses the TCP numbers: 07 (TCP_CLOSE) is a bound, unconnected socket, which `ss` calls UNCONN. */
const UDP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '07': 'UNCONN',
};

const TABLES: ReadonlyArray<{ file: string; proto: SocketProto; family: 4 | 6 }> = [
  { file: 'tcp', proto: 'tcp', family: 4 },
  { file: 'tcp6', proto: 'tcp', family: 6 },
  { file: 'udp', proto: 'udp', family: 4 },
  { file: 'udp6', proto: 'udp', family: 6 },
];

/** A kernel built without IPv6 has no tcp6/udp6: that is an empty table, not an error. */
const ABSENT = new Set(['ENOENT']);

/**
 * The UDP sockets and the listening TCP sockets of this network namespace, from
 * /proc/net/{tcp,tcp6,udp,udp6} (`proto` and `family` pick tables). Established TCP connections are left
 * out: no check needs them, and listing them walks the kernel's whole connection hash (262,144
 * buckets on a 24 GiB host, 4 ms a table however few connections there are). Read synchronously:
 * each async read would wait a turn of the event loop, which under a scrape storm took longer than
 * the probe interval.
 */
export async function readSockets(procRoot = '/proc', proto?: SocketProto, family?: 4 | 6): Promise<SocketInfo[]> {
  const wanted = TABLES.filter((table) => (proto === undefined || table.proto === proto) && (family === undefined || table.family === family));
  return wanted.flatMap(({ file, proto: tableProto, family }) => {
    const tablePath = path.join(procRoot, 'net', file);
    const text = tableProto === 'tcp' ? readListeningPart(tablePath) : readProcFile(tablePath, ABSENT);
    return text === undefined ? [] : parseSocketTable(text, tableProto, family);
  });
}

/** Small reads: the kernel formats about one line per read, so stopping early spares it the rest. */
const LINE_READ_BYTES = 256;

/**
 * The header and the LISTEN lines of a TCP table. The kernel lists listening sockets first, from
 * their own small hash, then walks the connection hash: reading stops at the first line that is not
 * LISTEN, before that walk goes on.
 */
export function readListeningPart(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(LINE_READ_BYTES);
    let text = '';
    let checked = 0;
    for (;;) {
      const count = readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) return text;
      text += buffer.toString('latin1', 0, count);
      // Whole lines only; the header (line 0) is skipped. State is the 4th field.
      for (let end = text.indexOf('\n', checked); end >= 0; end = text.indexOf('\n', checked)) {
        const line = text.slice(checked, end);
        if (checked > 0 && line.trim() !== '' && line.trim().split(/\s+/)[3] !== '0A') return text.slice(0, checked);
        checked = end + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Parses one /proc/net/{tcp,tcp6,udp,udp6} table (header line included). */
export function parseSocketTable(text: string, proto: SocketProto, family: 4 | 6): SocketInfo[] {
  const sockets: SocketInfo[] = [];
  for (const line of text.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    sockets.push(parseSocketLine(line, proto, family));
  }
  return sockets;
}

/** `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...` */
export function parseSocketLine(line: string, proto: SocketProto, family: 4 | 6): SocketInfo {
  const fields = line.trim().split(/\s+/);
  const local = fields[1];
  const stateHex = fields[3]?.toUpperCase();
  const inode = fields[9];
  const table = `/proc/net/${proto}${family === 6 ? '6' : ''}`;
  if (local === undefined || stateHex === undefined || inode === undefined) {
    throw new Error(`${table} line has ${fields.length} fields, expected at least 10: ${quoted(line)}`);
  }
  const [addressHex, portHex, extra] = local.split(':');
  // Checked here rather than read as NaN: a port, state or inode the kernel cannot print is no socket.
  if (addressHex === undefined || portHex === undefined || extra !== undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex)) {
    throw new Error(`local address ${quoted(local)} is not ADDRESS:PORT in hex`);
  }
  if (!/^[0-9A-F]{2}$/.test(stateHex)) throw new Error(`${table} state ${quoted(stateHex)} is not two hex digits`);
  if (!/^\d{1,15}$/.test(inode)) throw new Error(`${table} inode ${quoted(inode)} is not a whole number`);
  const states = proto === 'tcp' ? TCP_STATES : UDP_STATES;
  return {
    proto,
    family,
    localAddress: family === 4 ? decodeIPv4(addressHex) : decodeIPv6(addressHex),
    localPort: Number.parseInt(portHex, 16),
    state: states[stateHex] ?? `STATE_${stateHex}`,
    inode: Number.parseInt(inode, 10),
  };
}

/** A piece of a line for an error message: JSON-quoted, cut at 80 characters. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** The kernel prints the address as one 32-bit word in host (little-endian) byte order. */
export function decodeIPv4(hex: string): string {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) throw new Error(`IPv4 address ${quoted(hex)} is not 8 hex digits`);
  return wordBytes(hex).join('.');
}

/** Four 32-bit words, each in host (little-endian) byte order, in network word order. */
export function decodeIPv6(hex: string): string {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new Error(`IPv6 address ${quoted(hex)} is not 32 hex digits`);
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  return formatIPv6(bytes);
}

/** The 4 bytes of one little-endian hex word, most significant (network) first. */
function wordBytes(hex8: string): number[] {
  const bytes: number[] = [];
  for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(hex8.slice(i, i + 2), 16));
  return bytes;
}

/** RFC 5952 text form: lower case, longest run (>= 2) of zero groups as `::`, IPv4-mapped as dotted quad. */
function formatIPv6(bytes: number[]): string {
  const isV4Mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isV4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  const run = longestZeroRun(groups);
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (run.length < 2) return hex(groups);
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const ANY = new BlockList();
ANY.addAddress('0.0.0.0', 'ipv4');
ANY.addAddress('::', 'ipv6');

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.x.x), in any valid text form. */
export function isLoopback(address: string): boolean {
  return matches(LOOPBACK, address);
}

/** The wildcard addresses 0.0.0.0 and ::, i.e. bound on every interface. */
export function isAnyAddress(address: string): boolean {
  return matches(ANY, address);
}

function matches(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
