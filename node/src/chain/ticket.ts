import {
  bytesToBigInt,
  EncodingError,
  toHex,
  writeAddress,
  writeBytes32,
  writeUint256,
} from "./bytes.ts";
import { keccak_256 } from "./keccak.ts";

/**
 * The probabilistic-payment ticket, exactly as TicketBroker hashes it (EIP-712, primary type
 * "Ticket", fields in this order). Addresses are 0x-prefixed hex (any case); bytes32 values
 * are 0x-prefixed 64-digit hex.
 */
export interface Ticket {
  recipient: string;
  sender: string;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: string;
  creationRound: bigint;
  creationRoundBlockHash: string;
}

export interface TicketDomain {
  chainId: bigint;
  /** The TicketBroker address. */
  verifyingContract: string;
}

export const TICKET_DOMAIN_NAME = "Segmint";
export const TICKET_DOMAIN_VERSION = "1";

/** The EIP-712 types in the shape ethers' TypedDataEncoder and signTypedData take. */
export const TICKET_EIP712_TYPES = {
  Ticket: [
    { name: "recipient", type: "address" },
    { name: "sender", type: "address" },
    { name: "faceValue", type: "uint256" },
    { name: "winProb", type: "uint256" },
    { name: "senderNonce", type: "uint256" },
    { name: "recipientRandHash", type: "bytes32" },
    { name: "creationRound", type: "uint256" },
    { name: "creationRoundBlockHash", type: "bytes32" },
  ],
} as const;

/** The EIP-712 domain as signTypedData / TypedDataEncoder take it, for signing with a wallet. */
export function ticketTypedDataDomain(domain: TicketDomain): {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
} {
  return {
    name: TICKET_DOMAIN_NAME,
    version: TICKET_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  };
}

/** TICKET_EIP712_TYPES as a mutable copy: ethers' typed-data calls do not take readonly arrays. */
export function ticketTypedDataTypes(): { Ticket: Array<{ name: string; type: string }> } {
  return { Ticket: TICKET_EIP712_TYPES.Ticket.map((field) => ({ ...field })) };
}

/** winProb is compared against a uint256 hash, so this value makes every ticket win. */
export const MAX_WIN_PROB = (1n << 256n) - 1n;
/** Expected value carries this denominator: EV = faceValue * winProb / 2^256. */
export const WIN_PROB_SCALE = 1n << 256n;

const TICKET_TYPE_STRING =
  "Ticket(address recipient,address sender,uint256 faceValue,uint256 winProb,uint256 senderNonce," +
  "bytes32 recipientRandHash,uint256 creationRound,bytes32 creationRoundBlockHash)";
const DOMAIN_TYPE_STRING =
  "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const encoder = new TextEncoder();
export const TICKET_TYPE_HASH = keccak_256(encoder.encode(TICKET_TYPE_STRING));

export function ticketDomainSeparator(domain: TicketDomain): Uint8Array {
  const buf = Buffer.alloc(5 * 32);
  buf.set(keccak_256(encoder.encode(DOMAIN_TYPE_STRING)), 0);
  buf.set(keccak_256(encoder.encode(TICKET_DOMAIN_NAME)), 32);
  buf.set(keccak_256(encoder.encode(TICKET_DOMAIN_VERSION)), 64);
  writeUint256(buf, 96, domain.chainId, "chainId");
  writeAddress(buf, 128, domain.verifyingContract, "verifyingContract");
  return keccak_256(buf);
}

/**
 * Hashes tickets for one domain. The domain separator and type hash are computed once;
 * each ticket then costs two keccak calls over preallocated buffers (no ABI coder), which
 * is what lets validation reach tens of thousands of tickets per second.
 */
export class TicketHasher {
  readonly domainSeparator: Uint8Array;
  private readonly structBuf = Buffer.alloc(9 * 32);
  private readonly digestBuf = Buffer.alloc(2 + 32 + 32);

  constructor(readonly domain: TicketDomain) {
    this.domainSeparator = ticketDomainSeparator(domain);
    this.structBuf.set(TICKET_TYPE_HASH, 0);
    this.digestBuf[0] = 0x19;
    this.digestBuf[1] = 0x01;
    this.digestBuf.set(this.domainSeparator, 2);
  }

  structHash(ticket: Ticket): Uint8Array {
    const b = this.structBuf;
    writeAddress(b, 32, ticket.recipient, "recipient");
    writeAddress(b, 64, ticket.sender, "sender");
    writeUint256(b, 96, ticket.faceValue, "faceValue");
    writeUint256(b, 128, ticket.winProb, "winProb");
    writeUint256(b, 160, ticket.senderNonce, "senderNonce");
    writeBytes32(b, 192, ticket.recipientRandHash, "recipientRandHash");
    writeUint256(b, 224, ticket.creationRound, "creationRound");
    writeBytes32(b, 256, ticket.creationRoundBlockHash, "creationRoundBlockHash");
    return keccak_256(b);
  }

  /** The EIP-712 digest the sender signs; also the key TicketBroker marks as used. */
  digest(ticket: Ticket): Uint8Array {
    this.digestBuf.set(this.structHash(ticket), 34);
    return keccak_256(this.digestBuf);
  }
}

/** recipientRandHash = keccak256(abi.encodePacked(uint256 recipientRand)). */
// Scratch space for the per-ticket hashes below. They run synchronously from start to end,
// so one buffer each is safe and spares the allocator and GC work on the validation path.
const randScratch = Buffer.alloc(32);
const winScratch = Buffer.alloc(65 + 32);

/**
 * recipientRandHash = keccak256(abi.encodePacked(uint256 recipientRand)), from the rand as a
 * number or as its 32 big-endian bytes.
 */
export function hashRecipientRand(recipientRand: bigint | Uint8Array): string {
  if (typeof recipientRand === "bigint") {
    writeUint256(randScratch, 0, recipientRand, "recipientRand");
    return toHex(keccak_256(randScratch));
  }
  if (recipientRand.length !== 32) throw new EncodingError("recipientRand is 32 bytes");
  return toHex(keccak_256(recipientRand));
}

/** A ticket wins when uint256(keccak256(sig || uint256 recipientRand)) < winProb. */
export function isWinningTicket(
  signature: Uint8Array,
  recipientRand: bigint | Uint8Array,
  winProb: bigint,
): boolean {
  if (signature.length !== 65) throw new EncodingError("a signature is 65 bytes");
  winScratch.set(signature, 0);
  if (typeof recipientRand === "bigint") {
    writeUint256(winScratch, 65, recipientRand, "recipientRand");
  } else {
    if (recipientRand.length !== 32) throw new EncodingError("recipientRand is 32 bytes");
    winScratch.set(recipientRand, 65);
  }
  return bytesToBigInt(keccak_256(winScratch)) < winProb;
}

/** Expected value in token wei, rounded down; exact accounting keeps the 2^256 scale instead. */
export function ticketExpectedValue(faceValue: bigint, winProb: bigint): bigint {
  return (faceValue * winProb) / WIN_PROB_SCALE;
}
