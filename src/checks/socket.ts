import { isAnyAddress, isLoopback } from '../snapshot/sockets.js';
import type { Check, CheckContext, CheckResult, SocketInfo, SocketProto } from '../core/contracts.js';
import { assertCheckName } from '../util/format.js';

export interface SocketCheckOptions {
  proto: SocketProto;
  port: number;
  name?: string;
  /**
   * Which local addresses count. `loopback-or-any` (default): 127.0.0.0/8, ::1 or a wildcard
   * (0.0.0.0, ::), i.e. reachable from this machine. `any`: bound on whatever address.
   */
  addresses?: 'loopback-or-any' | 'any';
}

/** How many other bound ports a failure message lists, nearest to the wanted port first. */
const MAX_PORTS_LISTED = 10;

/**
 * Is something listening (TCP) or bound (UDP) on this port? Reads the kernel's socket table from
 * the cycle snapshot and never connects: one such port is Tomcat's shutdown port, and UDP has no
 * handshake to probe with anyway.
 */
export function socketCheck(opts: SocketCheckOptions): Check {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`socketCheck: port must be an integer from 1 to 65535, got ${String(opts.port)}`);
  }
  if (opts.proto !== 'tcp' && opts.proto !== 'udp') {
    throw new Error(`socketCheck: proto must be 'tcp' or 'udp', got ${JSON.stringify(opts.proto)}`);
  }
  const name = assertCheckName(opts.name ?? `${opts.proto}_${opts.port}`);
  const addresses = opts.addresses ?? 'loopback-or-any';
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const accept = (s: SocketInfo) => s.localPort === opts.port && (addresses === 'any' || isLoopback(s.localAddress) || isAnyAddress(s.localAddress));
      // IPv4 first, IPv6 only when IPv4 has no answer: a TCP table without connections of its own
      // family costs a walk of the kernel's whole connection hash (4 ms here), mostly for nothing.
      for (const family of [4, 6] as const) {
        const accepted = (await ctx.snapshot.sockets(opts.proto, family)).filter((s) => isBoundForService(s, opts.proto) && accept(s));
        if (accepted.length > 0) return okResult(opts, accepted);
      }
      const bound = (await ctx.snapshot.sockets(opts.proto)).filter((s) => isBoundForService(s, opts.proto));
      return criticalResult(opts, addresses, bound.filter((s) => s.localPort === opts.port), bound);
    },
  };
}

/** A TCP socket accepting connections, or a UDP socket bound and not connected to one peer. */
function isBoundForService(s: SocketInfo, proto: SocketProto): boolean {
  return s.proto === proto && s.state === (proto === 'tcp' ? 'LISTEN' : 'UNCONN');
}

function okResult(opts: SocketCheckOptions, accepted: SocketInfo[]): CheckResult {
  const where = unique(accepted.map((s) => s.localAddress)).join(', ');
  const verb = opts.proto === 'tcp' ? 'listening' : 'bound';
  return {
    state: 'ok',
    message: `${opts.proto.toUpperCase()} port ${opts.port} ${verb} on ${where}`,
    values: { sockets: accepted.length },
  };
}

function criticalResult(
  opts: SocketCheckOptions,
  addresses: 'loopback-or-any' | 'any',
  onPortElsewhere: SocketInfo[],
  bound: SocketInfo[],
): CheckResult {
  const what = opts.proto === 'tcp' ? `no TCP listener on port ${opts.port}` : `no UDP socket bound on port ${opts.port}`;
  const scope = addresses === 'any' ? '' : ' (loopback or any address)';
  return {
    state: 'critical',
    message: `${what}${scope}; ${hint(opts.proto, opts.port, onPortElsewhere, bound)}`,
    values: { sockets: 0 },
  };
}

/** What the operator most likely wants to know next: where the port is bound instead, or what is bound nearby. */
function hint(proto: SocketProto, port: number, onPortElsewhere: SocketInfo[], bound: SocketInfo[]): string {
  if (onPortElsewhere.length > 0) {
    return `port ${port} is bound only on ${unique(onPortElsewhere.map((s) => s.localAddress)).join(', ')}`;
  }
  const nearest = unique(bound.map((s) => s.localPort))
    .sort((a, b) => Math.abs(a - port) - Math.abs(b - port) || a - b)
    .slice(0, MAX_PORTS_LISTED)
    .sort((a, b) => a - b);
  const label = proto.toUpperCase();
  const verb = proto === 'tcp' ? 'listening' : 'bound';
  return nearest.length === 0 ? `no ${label} port is ${verb} at all` : `${label} ports ${verb}: ${nearest.join(', ')}`;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
