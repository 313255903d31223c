import { isIPv4, isIPv6 } from 'node:net';

/**
 * The unit the throttle counts an address in. An IPv4 address is one unit. An IPv6 address is
 * grouped by its /64: one subscriber usually holds a whole /64 and can pick any of its 2^64
 * addresses, so counting each address apart would give them a fresh budget per request.
 * An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as Node reports IPv4 peers on a dual-stack
 * socket) counts as its IPv4 address. Anything else (a missing or odd value) is kept as it is.
 */
export function addressGroup(address: string): string {
  const bare = address
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address;
  const hextets = expandIPv6(bare);
  return `${hextets.slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address, without leading zeros (an embedded IPv4 tail converted). */
function expandIPv6(address: string): string[] {
  let text = address;
  const ipv4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail[1].split('.').map(Number);
    text = `${text.slice(0, -ipv4Tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts =
    tail === undefined ? headParts : [...headParts, ...Array(missing).fill('0'), ...tailParts];
  return parts.map((part) => parseInt(part, 16).toString(16));
}
