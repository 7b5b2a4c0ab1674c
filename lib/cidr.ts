// IPv4 addresses and CIDR blocks as numbers, for containment and overlap checks.

export interface Cidr {
  readonly address: number;
  readonly base: number;
  readonly last: number;
  readonly prefix: number;
}

export function parseIp(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits);
  const address = parseIp(ip!);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(address / size) * size;
  return { address, base, last: base + size - 1, prefix };
}

export function contains(cidr: Cidr, value: number): boolean {
  return value >= cidr.base && value <= cidr.last;
}
