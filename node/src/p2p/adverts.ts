import type { GossipSub, Message } from "@libp2p/gossipsub";
import { TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import type { z } from "zod";
import type { Logger } from "../log/index.ts";
import { type AdvertPayload, type SignedAdvert, SignedAdvertSchema } from "../protocol/index.ts";
import { ADVERT_TOPIC, SIGNING_DOMAIN } from "./constants.ts";
import { P2pError } from "./errors.ts";
import { decodeJson, encodeJson } from "./framing.ts";
import type { Clock, OrchestratorProfile, RegistryReader } from "./interface.ts";
import type { P2pMetrics } from "./metrics.ts";
import { type AdvertOptions, defaultP2pOptions } from "./options.ts";
import { type EthSigner, recoverSigner, sameAddress, signPayload } from "./signing.ts";

/**
 * Orchestrator adverts on the gossipsub topic /segmint/adverts/1.0.0: a signed, expiring
 * statement of address, peer id, addresses, price, capabilities and capacity. Gossip carries
 * them; trust comes only from the chain (who owns the peer id, who is active).
 */

// ---- publishing (orchestrator) ----

export interface AdvertPublisherInit {
  pubsub: Pick<GossipSub, "publish">;
  peerId: PeerId;
  /** The addresses to advertise (the host's announced multiaddrs). */
  multiaddrs: () => string[];
  signer: EthSigner;
  profile: OrchestratorProfile;
  options?: AdvertOptions;
  log: Logger;
  clock?: Clock;
}

export class AdvertPublisher {
  private readonly options: AdvertOptions;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly init: AdvertPublisherInit) {
    this.options = init.options ?? defaultP2pOptions.adverts;
    this.clock = init.clock ?? Date.now;
  }

  /** Publishes now, then every `republishMs` until stop(). */
  async start(): Promise<void> {
    await this.publishQuietly();
    this.timer = setInterval(() => void this.publishQuietly(), this.options.republishMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async advert(): Promise<SignedAdvert> {
    const payload: AdvertPayload = {
      ethAddress: this.init.signer.address,
      peerId: this.init.peerId.toString(),
      multiaddrs: this.init.multiaddrs().slice(0, 16),
      pricePerPixel: this.init.profile.pricePerPixel(),
      capabilities: this.init.profile.capabilities(),
      capacity: this.init.profile.capacity(),
      expiresAt: this.clock() + this.options.ttlMs,
    };
    const signature = await signPayload(this.init.signer, SIGNING_DOMAIN.advert, payload);
    return { ...payload, signature };
  }

  async publish(): Promise<SignedAdvert> {
    const advert = await this.advert();
    const data = encodeJson(advert);
    if (data.byteLength > this.options.maxAdvertBytes) {
      throw new P2pError(
        "P2P_FRAME_TOO_LARGE",
        `the advert is ${data.byteLength} bytes, over the ${this.options.maxAdvertBytes}-byte cap`,
        { size: data.byteLength, max: this.options.maxAdvertBytes },
        { hint: "shorten the capability document or the list of announced addresses" },
      );
    }
    const result = await this.init.pubsub.publish(ADVERT_TOPIC, data);
    this.init.log.debug(
      { recipients: result.recipients.length, expiresAt: advert.expiresAt },
      "advert published",
    );
    return advert;
  }

  private async publishQuietly(): Promise<void> {
    try {
      await this.publish();
    } catch (error) {
      // A missed republish is not fatal: the last advert stays valid for ttl = 3 periods.
      this.init.log.warn({ err: error }, "advert publish failed");
    }
  }
}

// ---- receiving (broadcaster) ----

export type AdvertRejection =
  | "MALFORMED"
  | "TOO_LARGE"
  | "WRONG_PUBLISHER"
  | "EXPIRED"
  | "EXPIRY_TOO_FAR"
  | "BAD_SIGNATURE"
  | "NOT_PEER_OWNER"
  | "INACTIVE"
  | "STALE"
  | "REGISTRY_UNAVAILABLE";

export type AdvertVerdict =
  | { accepted: true; advert: SignedAdvert }
  | { accepted: false; reason: AdvertRejection };

export interface AdvertBookInit {
  registry: Pick<RegistryReader, "provenPeerId" | "isActive">;
  options?: AdvertOptions;
  metrics?: P2pMetrics | null;
  /** The media layer's capability schema; an advert whose document fails it is MALFORMED. */
  capabilitiesSchema?: z.ZodType;
  log: Logger;
  clock?: Clock;
}

/**
 * Keeps the latest valid advert per orchestrator address. An advert is dropped when it is
 * malformed, expired (or claims an expiry further out than the protocol's ttl allows, which
 * would let one signature live forever), its signer is not the on-chain owner of the peer id
 * it names, or its signer is not an active orchestrator.
 */
export class AdvertBook {
  private readonly options: AdvertOptions;
  private readonly clock: Clock;
  private readonly byAddress = new Map<string, SignedAdvert>();
  private readonly listeners = new Set<(verdict: AdvertVerdict) => void>();
  private pubsub: Pick<GossipSub, "subscribe" | "unsubscribe" | "topicValidators"> | null = null;

  constructor(private readonly init: AdvertBookInit) {
    this.options = init.options ?? defaultP2pOptions.adverts;
    this.clock = init.clock ?? Date.now;
  }

  /**
   * Subscribes to the advert topic and checks every message in gossipsub's validator, so a
   * bad advert is neither stored nor forwarded, and its sender's gossip score drops.
   */
  attach(pubsub: Pick<GossipSub, "subscribe" | "unsubscribe" | "topicValidators">): void {
    this.pubsub = pubsub;
    pubsub.topicValidators.set(ADVERT_TOPIC, (_peer, message) => this.validate(message));
    pubsub.subscribe(ADVERT_TOPIC);
  }

  detach(): void {
    if (this.pubsub === null) return;
    this.pubsub.unsubscribe(ADVERT_TOPIC);
    this.pubsub.topicValidators.delete(ADVERT_TOPIC);
    this.pubsub = null;
  }

  /** Called with the verdict on every advert considered. Returns an unsubscribe function. */
  onVerdict(listener: (verdict: AdvertVerdict) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async validate(message: Message): Promise<TopicValidatorResult> {
    // StrictSign: `from` is the original publisher (not the relaying peer), proven by the
    // libp2p signature, so an orchestrator can only advertise its own peer id.
    const from = message.type === "signed" ? message.from.toString() : undefined;
    const verdict = await this.consider(message.data, from);
    if (verdict.accepted) return TopicValidatorResult.Accept;
    this.init.log.debug({ reason: verdict.reason, from }, "advert dropped");
    // Stale, expired or unverifiable-right-now adverts can come from honest peers (clock
    // skew, gossip delay, our RPC down): drop without penalty. The rest is forgery.
    switch (verdict.reason) {
      case "STALE":
      case "EXPIRED":
      case "REGISTRY_UNAVAILABLE":
        return TopicValidatorResult.Ignore;
      default:
        return TopicValidatorResult.Reject;
    }
  }

  /** Checks one advert (raw message bytes) and stores it if it passes. */
  async consider(data: Uint8Array, publisher?: string): Promise<AdvertVerdict> {
    const verdict = await this.check(data, publisher);
    if (verdict.accepted) {
      const key = verdict.advert.ethAddress.toLowerCase();
      // Another advert from the same orchestrator may have passed while we asked the chain.
      const current = this.byAddress.get(key);
      if (current === undefined || current.expiresAt < verdict.advert.expiresAt) {
        this.byAddress.set(key, verdict.advert);
      }
    }
    this.init.metrics?.adverts.inc({ verdict: verdict.accepted ? "accepted" : verdict.reason });
    for (const listener of this.listeners) listener(verdict);
    return verdict;
  }

  private async check(data: Uint8Array, publisher: string | undefined): Promise<AdvertVerdict> {
    if (data.byteLength > this.options.maxAdvertBytes)
      return { accepted: false, reason: "TOO_LARGE" };
    let advert: SignedAdvert;
    try {
      advert = decodeJson(SignedAdvertSchema, data, "advert");
    } catch {
      return { accepted: false, reason: "MALFORMED" };
    }
    const capabilitiesSchema = this.init.capabilitiesSchema;
    if (
      capabilitiesSchema !== undefined &&
      !capabilitiesSchema.safeParse(advert.capabilities).success
    ) {
      return { accepted: false, reason: "MALFORMED" };
    }
    if (publisher !== undefined && publisher !== advert.peerId) {
      return { accepted: false, reason: "WRONG_PUBLISHER" };
    }
    const now = this.clock();
    if (advert.expiresAt <= now) return { accepted: false, reason: "EXPIRED" };
    if (advert.expiresAt > now + 2 * this.options.ttlMs) {
      return { accepted: false, reason: "EXPIRY_TOO_FAR" };
    }
    const { signature, ...payload } = advert;
    let signer: string;
    try {
      signer = recoverSigner(SIGNING_DOMAIN.advert, payload, signature);
    } catch {
      return { accepted: false, reason: "BAD_SIGNATURE" };
    }
    if (!sameAddress(signer, advert.ethAddress))
      return { accepted: false, reason: "BAD_SIGNATURE" };
    const current = this.byAddress.get(signer.toLowerCase());
    if (current !== undefined && current.expiresAt >= advert.expiresAt) {
      return { accepted: false, reason: "STALE" };
    }

    let proven: string | null;
    let active: boolean;
    try {
      [proven, active] = await Promise.all([
        this.init.registry.provenPeerId(signer),
        this.init.registry.isActive(signer),
      ]);
    } catch (error) {
      this.init.log.warn({ err: error }, "registry lookup failed; advert not checked");
      return { accepted: false, reason: "REGISTRY_UNAVAILABLE" };
    }
    if (proven !== advert.peerId) return { accepted: false, reason: "NOT_PEER_OWNER" };
    if (!active) return { accepted: false, reason: "INACTIVE" };

    return { accepted: true, advert };
  }

  /** The unexpired adverts, one per orchestrator; expired ones are forgotten here. */
  list(): SignedAdvert[] {
    const now = this.clock();
    const live: SignedAdvert[] = [];
    for (const [key, advert] of this.byAddress) {
      if (advert.expiresAt <= now) this.byAddress.delete(key);
      else live.push(advert);
    }
    return live;
  }

  get(ethAddress: string): SignedAdvert | undefined {
    const advert = this.byAddress.get(ethAddress.toLowerCase());
    if (advert === undefined || advert.expiresAt <= this.clock()) return undefined;
    return advert;
  }
}
