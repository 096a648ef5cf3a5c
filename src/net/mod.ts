/**
 * Addresses: parsing, CIDR matching, special-purpose ranges, log masking.
 *
 * @module
 */

export {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIp,
  type IpBytes,
  isIpv4Mapped,
  maskBits,
  parseCidr,
  parseIp,
  unmapIpv4,
} from "./ip.ts";
export { type AddressClass, classifyAddress } from "./ranges.ts";
export { maskClientIp } from "./mask.ts";
export { type AddressFilter, addressFilter, ALLOW_ALL } from "./filter.ts";
