import type { Logger } from "../log/index.ts";
import { AdvertBook, AdvertPublisher } from "./adverts.ts";
import { Discovery } from "./discovery.ts";
import { createHost, type SegmintNode } from "./host.ts";
import { InfoProtocol } from "./info.ts";
import type {
  Clock,
  OrchestratorProfile,
  RegistryReader,
  TicketParamsProvider,
  TranscodeService,
} from "./interface.ts";
import type { P2pMetrics } from "./metrics.ts";
import type { P2pOptions } from "./options.ts";
import type { EthSigner } from "./signing.ts";
import { TranscodeProtocol } from "./transcode-server.ts";

/**
 * The p2p pieces of each role, started and stopped in order, for the role composition roots
 * (orchestrator/ and broadcaster/). Each piece can also be used alone.
 */

export interface OrchestratorNetworkInit {
  options: P2pOptions;
  signer: EthSigner;
  /** Price and capabilities; capacity comes from the transcode protocol's slots. */
  profile: Omit<OrchestratorProfile, "capacity">;
  tickets: TicketParamsProvider;
  service: TranscodeService;
  metrics?: P2pMetrics | null;
  log: Logger;
  clock?: Clock;
}

export class OrchestratorNetwork {
  private constructor(
    readonly node: SegmintNode,
    readonly info: InfoProtocol,
    readonly transcode: TranscodeProtocol,
    readonly publisher: AdvertPublisher | null,
    private readonly discovery: Discovery,
  ) {}

  static async start(init: OrchestratorNetworkInit): Promise<OrchestratorNetwork> {
    const log = init.log.child({ subsystem: "p2p" });
    const node = await createHost(init.options.host, log);
    try {
      const transcode = new TranscodeProtocol({
        node,
        signer: init.signer,
        service: init.service,
        limits: init.options.transcode,
        metrics: init.metrics ?? null,
        log,
      });
      const profile: OrchestratorProfile = {
        pricePerPixel: () => init.profile.pricePerPixel(),
        capabilities: () => init.profile.capabilities(),
        capacity: () => transcode.slots.capacity(),
      };
      const info = new InfoProtocol({
        node,
        signer: init.signer,
        profile,
        tickets: init.tickets,
        limits: init.options.info,
        metrics: init.metrics ?? null,
        log,
        ...(init.clock === undefined ? {} : { clock: init.clock }),
      });
      await transcode.start();
      await info.start();
      // Orchestrators join the network through the same bootstrap list, so their adverts
      // reach the mesh; they need no registry view of their own.
      const discovery = new Discovery({
        node,
        registry: null,
        adverts: null,
        bootstrap: init.options.bootstrap,
        log,
      });
      await discovery.start();
      const pubsub = node.services.pubsub;
      let publisher: AdvertPublisher | null = null;
      if (pubsub !== undefined) {
        publisher = new AdvertPublisher({
          pubsub,
          peerId: node.peerId,
          multiaddrs: () => node.getMultiaddrs().map((addr) => addr.toString()),
          signer: init.signer,
          profile,
          options: init.options.adverts,
          log,
          ...(init.clock === undefined ? {} : { clock: init.clock }),
        });
        await publisher.start();
      }
      return new OrchestratorNetwork(node, info, transcode, publisher, discovery);
    } catch (error) {
      await node.stop();
      throw error;
    }
  }

  /** Stops taking work first, then leaves the network. */
  async stop(): Promise<void> {
    this.publisher?.stop();
    this.discovery.stop();
    await this.info.stop();
    await this.transcode.stop();
    await this.node.stop();
  }
}

export interface BroadcasterNetworkInit {
  options: P2pOptions;
  /** The chain registry; null runs without chain checks (adverts are then all refused). */
  registry: RegistryReader | null;
  metrics?: P2pMetrics | null;
  log: Logger;
  clock?: Clock;
}

export class BroadcasterNetwork {
  private constructor(
    readonly node: SegmintNode,
    readonly adverts: AdvertBook | null,
    readonly discovery: Discovery,
  ) {}

  static async start(init: BroadcasterNetworkInit): Promise<BroadcasterNetwork> {
    const log = init.log.child({ subsystem: "p2p" });
    const node = await createHost(init.options.host, log);
    try {
      const pubsub = node.services.pubsub;
      let adverts: AdvertBook | null = null;
      if (pubsub !== undefined && init.registry !== null) {
        adverts = new AdvertBook({
          registry: init.registry,
          options: init.options.adverts,
          metrics: init.metrics ?? null,
          log,
          ...(init.clock === undefined ? {} : { clock: init.clock }),
        });
        adverts.attach(pubsub);
      }
      const discovery = new Discovery({
        node,
        registry: init.registry,
        adverts,
        bootstrap: init.options.bootstrap,
        log,
      });
      await discovery.start();
      return new BroadcasterNetwork(node, adverts, discovery);
    } catch (error) {
      await node.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.discovery.stop();
    this.adverts?.detach();
    await this.node.stop();
  }
}
