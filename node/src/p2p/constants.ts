/** Protocol ids are versioned: a breaking change to a message gets a new id, never a silent edit. */
export const INFO_PROTOCOL = "/segmint/info/1.0.0";
export const TRANSCODE_PROTOCOL = "/segmint/transcode/1.0.0";
export const ADVERT_TOPIC = "/segmint/adverts/1.0.0";

/** Name of the peer key file inside the data dir (libp2p protobuf-encoded private key). */
export const PEER_KEY_FILE = "peer.key";

/**
 * Domain tags mixed into every signed object so a signature made for one purpose (an advert)
 * can never be replayed as another (an info answer or a rendition receipt).
 */
export const SIGNING_DOMAIN = {
  info: "segmint/info/1",
  advert: "segmint/advert/1",
  renditions: "segmint/renditions/1",
} as const;
