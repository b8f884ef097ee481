import type { WireErrorCode } from "./p2p/errors.ts";

/**
 * Who owns a code: the folder (or shared file) whose code raises it, with the heading its
 * section gets in docs/errors.md. A subsystem's code union is derived from these
 * (`CodeOf<"media">`), so a code is declared once, here.
 */
export const ERROR_OWNERS = {
  chain: "Chain access, deployments and keys (node/src/chain)",
  config: "Settings and amounts (node/src/config)",
  cli: "Commands (node/src/cli)",
  http: "Status and HTTP servers (node/src/http.ts)",
  media: "Media: ffmpeg, inputs and profiles (node/src/media)",
  p2p: "Peer-to-peer protocols (node/src/p2p)",
  payments: "Payments: tickets, senders and balances (node/src/payments)",
  store: "Storage (node/src/store)",
  orchestrator: "Orchestrator daemon (node/src/orchestrator)",
  broadcaster: "Broadcaster client (node/src/broadcaster)",
  live: "Live broadcaster daemon (node/src/live)",
  ingest: "RTMP ingest (node/src/live/ingest*.ts)",
  devnet: "Devnet (node/src/devnet)",
} as const;
export type ErrorOwner = keyof typeof ERROR_OWNERS;

/**
 * What the catalog says about one code. The message stays at the throw site, where the values
 * are; the catalog says what the code means and what to do in general.
 */
export interface ErrorDescriptor {
  readonly owner: ErrorOwner;
  /** What the code means, in one line. */
  readonly title: string;
  /** What to do about it, in one line: the hint of an error that brings none of its own. */
  readonly hint: string;
  /**
   * The wire code (p2p/errors.ts WIRE_ERROR_CODES) an orchestrator answers a peer with when it
   * refuses a request for this reason. A wire code names itself; a code without one stays on
   * this side of the stream (a peer that triggers it is told INTERNAL).
   */
  readonly wire?: WireErrorCode;
}

/**
 * Every code Segmint throws, refuses or reports, keyed by the code itself: codes are stable
 * (tests, logs, metrics and the wire match on them), so the code is the key and no number is
 * needed beside it. Adding a code is one entry here; docs/errors.md is generated from this
 * (`npm run docs:errors`) and test/unit/errors/catalog.test.ts checks both.
 */
export const ERROR_CATALOG = {
  // Chain access, deployments and keys.
  RPC_URL_INVALID: {
    owner: "chain",
    title: "--rpc is not an http(s):// or ws(s):// URL",
    hint: "give a full URL such as http://127.0.0.1:8545",
  },
  CHAIN_UNREACHABLE: {
    owner: "chain",
    title: "nothing answers JSON-RPC at the URL",
    hint: "check --rpc and that the chain is running (`segmint chain` starts a local one)",
  },
  CHAIN_ID_MISMATCH: {
    owner: "chain",
    title: "the deployment file is for another chain than the one at the URL",
    hint: "point --rpc and --deployment at the same chain",
  },
  DEPLOYMENT_NO_CODE: {
    owner: "chain",
    title: "a contract of the deployment has no code on the chain (restarted chain, stale file)",
    hint: "deploy again after a chain restart, or pass the deployment written for this chain",
  },
  DEPLOYMENT_NOT_FOUND: {
    owner: "chain",
    title: "the deployment file cannot be read",
    hint: "pass the file written by `segmint deploy --out FILE`",
  },
  DEPLOYMENT_INVALID: {
    owner: "chain",
    title: "the deployment file is not valid JSON or misses fields",
    hint: "write it again with `segmint deploy --out FILE`",
  },
  DEPLOYMENT_IS_IGNITION: {
    owner: "chain",
    title: "the file is Hardhat Ignition's deployed_addresses.json, not a Segmint deployment",
    hint: "convert it once with `segmint import-deployment FILE --rpc URL --out deployment.json`",
  },
  DEPLOYMENT_WRITE_FAILED: {
    owner: "chain",
    title: "the deployment file cannot be written",
    hint: "check that the folder exists and is writable",
  },
  ARTIFACTS_MISSING: {
    owner: "chain",
    title: "a compiled contract is missing",
    hint: "run npm run build",
  },
  ARTIFACTS_INVALID: {
    owner: "chain",
    title: "a compiled contract cannot be read",
    hint: "run npm run build",
  },
  DEPLOY_PARAMS_INVALID: {
    owner: "chain",
    title: "the deployment parameters fail validation",
    hint: "fix the named parameters",
  },
  DEPLOY_NO_PROVIDER: {
    owner: "chain",
    title: "the deployer's signer is not connected to a chain",
    hint: "connect the signer to a JSON-RPC provider",
  },
  DEPLOY_INSUFFICIENT_FUNDS: {
    owner: "chain",
    title: "the deployer cannot pay the gas of a deployment step",
    hint: "fund the deployer account with the chain's native currency",
  },
  DEPLOY_TX_FAILED: {
    owner: "chain",
    title: "a deployment step's transaction failed",
    hint: "check the RPC endpoint and the deployer's balance, then deploy again",
  },
  TX_REVERTED: {
    owner: "chain",
    title: "a transaction would revert (preflight) or did; details name the contract's error",
    hint: "read the contract error named in the message; the command's guide says what it needs",
  },
  INSUFFICIENT_ETH: {
    owner: "chain",
    title: "the sending account cannot pay the gas (and value) of a transaction",
    hint: "send the account ETH (`segmint faucet ADDRESS` on a dev chain)",
  },
  INSUFFICIENT_TOKENS: {
    owner: "chain",
    title: "the account holds fewer tokens than the command needs",
    hint: "`segmint transfer` tokens to the account, or ask for less",
  },
  NOT_DEV_CHAIN: {
    owner: "chain",
    title: "the command only runs on a local dev chain (its funded accounts are public)",
    hint: "point --rpc at a local dev chain, or fund the account from a key of your own",
  },
  CHAIN_PORT_IN_USE: {
    owner: "chain",
    title: "the local chain's port is taken",
    hint: "stop what is using it or pass --port with another port (0 picks a free one)",
  },
  KEY_MISSING: {
    owner: "chain",
    title: "no signing key was given",
    hint: "pass --key HEX, --keystore FILE, or set SEGMINT_PRIVATE_KEY",
  },
  KEY_CONFLICT: {
    owner: "chain",
    title: "both a private key and a keystore were given",
    hint: "pass only one of --key and --keystore",
  },
  KEY_INVALID: {
    owner: "chain",
    title: "the private key is not a valid secp256k1 key of 32 bytes",
    hint: "pass the 64 hex digits of a real private key, with or without 0x",
  },
  KEYSTORE_UNREADABLE: {
    owner: "chain",
    title: "the keystore file cannot be read",
    hint: "check the --keystore path and its permissions",
  },
  PASSWORD_FILE_UNREADABLE: {
    owner: "chain",
    title: "the keystore's password file cannot be read",
    hint: "check the --password-file path and its permissions",
  },
  KEYSTORE_PASSWORD_MISSING: {
    owner: "chain",
    title: "a keystore was given without a password",
    hint: "pass --password-file FILE or set SEGMINT_KEYSTORE_PASSWORD",
  },
  KEYSTORE_DECRYPT_FAILED: {
    owner: "chain",
    title: "the keystore does not decrypt: a wrong password, or not a keystore",
    hint: "check the password and that the file is an encrypted JSON keystore",
  },

  // Settings and amounts.
  CONFIG_INVALID: {
    owner: "config",
    title: "settings failed validation; every bad one is listed with its path",
    hint: "fix the named settings (flags, SEGMINT_* variables or the config file)",
  },
  CONFIG_FILE_UNREADABLE: {
    owner: "config",
    title: "the config file cannot be read",
    hint: "check the --config path and its permissions",
  },
  CONFIG_FILE_MALFORMED: {
    owner: "config",
    title: "the config file is not a JSON object",
    hint: "write the config file as one JSON object of settings",
  },
  BAD_AMOUNT: {
    owner: "config",
    title: "an amount is not a number of wei, tokens or ETH, or is zero where it must not be",
    hint: 'give wei ("1000000000000000000"), tokens ("2.5 SGM") or, where asked, ETH ("0.5 ETH")',
  },

  // Commands.
  BAD_ADDRESS: {
    owner: "cli",
    title: "a value is not an Ethereum address",
    hint: "give a 0x-prefixed address of 40 hex digits",
  },
  BAD_PPM: {
    owner: "cli",
    title: "a share is not parts per million (0 to 1000000)",
    hint: "give parts per million: 10% is 100000",
  },
  BAD_LOCK_ID: {
    owner: "cli",
    title: "an unbonding lock id is not a whole number",
    hint: "`segmint stake unbond` prints the lock id; `segmint status ADDRESS` lists them",
  },
  OUT_NOT_A_DIRECTORY: {
    owner: "cli",
    title: "an output folder flag names a file",
    hint: "give the flag a folder (it is created when missing)",
  },
  DEVNET_FLAGS_INVALID: {
    owner: "cli",
    title: "the devnet's flags do not go together",
    hint: "add --rpc URL to use an existing chain, or drop --deployment and --key",
  },
  NOT_ORCHESTRATOR: {
    owner: "cli",
    title: "stake is bonded to an address that is not a registered orchestrator",
    hint: "register first with `segmint orchestrator-params`, or bond to one with --to",
  },
  NOT_ACTIVE_ORCHESTRATOR: {
    owner: "cli",
    title: "`segmint reward` for an orchestrator with no seat in this round's active set",
    hint: "bond at least the minimum self-stake (`segmint stake bond`); a seat counts from the next round",
  },
  REWARD_ALREADY_CALLED: {
    owner: "cli",
    title: "`segmint reward` after this round's reward was already minted",
    hint: "nothing to do: reward can be called once a round (the daemon calls it itself)",
  },
  ROUND_ALREADY_INITIALIZED: {
    owner: "cli",
    title: "`segmint round initialize` for a round that is already initialized",
    hint: "nothing to do until the next round begins (`segmint protocol` shows when)",
  },
  INSUFFICIENT_FEES: {
    owner: "cli",
    title: "the account has fewer fees than the amount asked to withdraw",
    hint: "withdraw at most what `segmint status ADDRESS` lists as fees",
  },
  FEES_LOCKED: {
    owner: "cli",
    title: "the fees asked for are not unlocked yet",
    hint: "wait for the round the message names, or withdraw what is withdrawable now",
  },
  NOTHING_TO_WITHDRAW: {
    owner: "cli",
    title: "the account has no fees to withdraw",
    hint: "fees appear once winning tickets are redeemed; check `segmint status ADDRESS`",
  },

  // Status and HTTP servers.
  HTTP_PORT_IN_USE: {
    owner: "http",
    title: "the HTTP server's port is taken",
    hint: "stop what holds the port, or pass another port (0 picks a free one)",
  },

  // Media.
  FFMPEG_NOT_FOUND: {
    owner: "media",
    title: "no working ffmpeg (or ffprobe) was found",
    hint: "install ffmpeg, or set FFMPEG_PATH (FFPROBE_PATH) to a working build",
  },
  FFMPEG_FAILED: {
    owner: "media",
    title: "ffmpeg could not start, or failed without a verdict on the input",
    hint: "the message ends with ffmpeg's own words; run again with SEGMINT_DEBUG=1 for more",
  },
  INPUT_NOT_FOUND: {
    owner: "media",
    title: "the input file does not exist or cannot be read",
    hint: "check the path of the input file",
    wire: "BAD_SEGMENT",
  },
  INPUT_EMPTY: {
    owner: "media",
    title: "the input is empty (0 bytes)",
    hint: "give a non-empty video file or segment",
    wire: "BAD_SEGMENT",
  },
  INPUT_TOO_LARGE: {
    owner: "media",
    title: "the input is over the byte limit",
    hint: "cut shorter segments or raise the byte limit",
    wire: "SEGMENT_TOO_LARGE",
  },
  INPUT_INVALID: {
    owner: "media",
    title: "the input is not decodable video",
    hint: "check that the file is a video and not corrupt",
    wire: "BAD_SEGMENT",
  },
  INPUT_NO_VIDEO: {
    owner: "media",
    title: "the input has no video stream",
    hint: "give media with a video stream",
    wire: "BAD_SEGMENT",
  },
  INPUT_UNSUPPORTED_CODEC: {
    owner: "media",
    title: "the input's video codec is not one this node takes",
    hint: "re-encode the input with a codec the message lists",
    wire: "BAD_SEGMENT",
  },
  INPUT_RESOLUTION_TOO_LARGE: {
    owner: "media",
    title: "the input's picture is larger than the limit",
    hint: "scale the input down, or raise the resolution limit",
    wire: "BAD_SEGMENT",
  },
  INPUT_DURATION_TOO_LONG: {
    owner: "media",
    title: "the segment is longer than the limit",
    hint: "cut shorter segments or raise the duration limit",
    wire: "BAD_SEGMENT",
  },
  INPUT_NO_KEYFRAME: {
    owner: "media",
    title: "the segment has no keyframe, so nothing in it can be decoded",
    hint: "cut segments on keyframes (every segment must contain at least one)",
    wire: "BAD_SEGMENT",
  },
  OUTPUT_TOO_LARGE: {
    owner: "media",
    title: "ffmpeg's output passed its byte limit",
    hint: "raise maxOutputBytes or lower the profile's bitrate",
  },
  TRANSCODE_TIMEOUT: {
    owner: "media",
    title: "ffmpeg ran past its time limit and was stopped",
    hint: "the input may be malformed, or the machine overloaded (run fewer transcodes at once)",
    wire: "TIMEOUT",
  },
  TRANSCODE_ABORTED: {
    owner: "media",
    title: "the transcode was stopped on request",
    hint: "nothing to fix: the caller stopped it",
  },
  PROFILE_INVALID: {
    owner: "media",
    title: "a profile or ladder is malformed (fields, duplicates, empty)",
    hint: "see docs/transcoding.md for the profile fields",
    wire: "BAD_REQUEST",
  },
  PROFILE_UNKNOWN: {
    owner: "media",
    title: "a profile name is no preset",
    hint: "use a preset the message lists, or a JSON profile",
    wire: "BAD_REQUEST",
  },
  CAPABILITIES_INVALID: {
    owner: "media",
    title: "a capability document does not match its schema",
    hint: "probe the capabilities again with this version (`segmint capabilities`)",
  },

  // Peer-to-peer: the wire codes (part of the protocol: add codes, never rename them).
  CAPACITY_FULL: {
    owner: "p2p",
    title: "the orchestrator has no free session, or is shutting down",
    hint: "nothing to fix: the broadcaster backs off and tries another orchestrator",
    wire: "CAPACITY_FULL",
  },
  NOT_ACTIVE: {
    owner: "p2p",
    title: "the orchestrator has no seat in the active set this round, so no ticket could pay it",
    hint: "nothing to fix as a broadcaster: choose another orchestrator; its operator bonds more stake",
    wire: "NOT_ACTIVE",
  },
  BAD_SEGMENT: {
    owner: "p2p",
    title: "the segment cannot be decoded or fails input validation",
    hint: "check the input: cut segments on keyframes, within the orchestrator's limits",
    wire: "BAD_SEGMENT",
  },
  SEGMENT_TOO_LARGE: {
    owner: "p2p",
    title: "the segment is over the orchestrator's byte limit",
    hint: "cut shorter segments",
    wire: "SEGMENT_TOO_LARGE",
  },
  BAD_REQUEST: {
    owner: "p2p",
    title: "a malformed request: header, framing, profiles or tickets",
    hint: "check that both sides run compatible versions (docs/protocol.md)",
    wire: "BAD_REQUEST",
  },
  TIMEOUT: {
    owner: "p2p",
    title: "the exchange or the transcode took longer than its time limit",
    hint: "nothing to fix on one occurrence; often: a slow link or an overloaded orchestrator",
    wire: "TIMEOUT",
  },
  INTERNAL: {
    owner: "p2p",
    title: "the orchestrator failed for a reason of its own; details stay in its log",
    hint: "the orchestrator's operator finds the cause in its log",
    wire: "INTERNAL",
  },
  // Peer-to-peer: local codes, what went wrong on this side of a stream or in the host.
  P2P_ADDRESS_INVALID: {
    owner: "p2p",
    title:
      "a --listen or --announce value is neither HOST:PORT nor a multiaddr (found when settings are read)",
    hint: "give HOST:PORT (0.0.0.0:4001) or a multiaddr such as /ip4/0.0.0.0/tcp/4001",
  },
  P2P_FRAME_TOO_LARGE: {
    owner: "p2p",
    title: "a frame on a stream is over its byte cap",
    hint: "the peer is misbehaving or runs an incompatible version",
    wire: "BAD_REQUEST",
  },
  P2P_MALFORMED_FRAME: {
    owner: "p2p",
    title: "a frame on a stream is malformed",
    hint: "the peer is misbehaving or runs an incompatible version",
    wire: "BAD_REQUEST",
  },
  P2P_BAD_HEADER: {
    owner: "p2p",
    title: "a message header is not JSON or does not match its schema",
    hint: "the peer is misbehaving or runs an incompatible version",
    wire: "BAD_REQUEST",
  },
  P2P_STREAM_STALLED: {
    owner: "p2p",
    title: "the peer sent too slowly (below the minimum pace)",
    hint: "nothing to fix on one occurrence; the link to the peer is too slow",
    wire: "TIMEOUT",
  },
  P2P_STREAM_TIMEOUT: {
    owner: "p2p",
    title: "the exchange passed its deadline, or the service is stopping",
    hint: "nothing to fix on one occurrence; often: a slow link or an overloaded peer",
    wire: "TIMEOUT",
  },
  P2P_STREAM_ENDED: {
    owner: "p2p",
    title: "the stream ended before the message was complete",
    hint: "the peer went away; try again or another peer",
    wire: "BAD_REQUEST",
  },
  P2P_BAD_SIGNATURE: {
    owner: "p2p",
    title: "an answer is not signed by the address it claims",
    hint: "the orchestrator is misbehaving; it is not paid and is avoided",
  },
  P2P_BAD_RESPONSE: {
    owner: "p2p",
    title: "an answer does not match what was asked or its schema",
    hint: "the orchestrator is misbehaving or runs an incompatible version",
  },
  P2P_PEER_KEY: {
    owner: "p2p",
    title: "the libp2p peer key in the data directory cannot be read or written",
    hint: "check the data directory's peer.key (mode 0600), or move it away for a new identity",
  },
  P2P_BAD_OPTIONS: {
    owner: "p2p",
    title: "the libp2p host or discovery settings cannot work (addresses, bootstrap peers)",
    hint: "fix the named address or setting",
  },

  // Payments.
  BAD_TICKET: {
    owner: "payments",
    title: "a ticket failed validation; details.reason says which check",
    hint: "request fresh ticket params from the orchestrator and sign new tickets",
    wire: "BAD_TICKET",
  },
  INSUFFICIENT_BALANCE: {
    owner: "payments",
    title: "the tickets sent and the sender's balance do not cover the work",
    hint: "send more tickets with the segment, or fund the sender's deposit",
    wire: "INSUFFICIENT_BALANCE",
  },
  FACE_VALUE_TOO_HIGH: {
    owner: "payments",
    title: "a ticket's face value is more than the sender's deposit and reserve can back",
    hint: "the sender must add to its deposit or reserve, or use smaller tickets",
    wire: "INSUFFICIENT_BALANCE",
  },
  SENDER_UNLOCKING: {
    owner: "payments",
    title: "the sender has started to unlock its deposit and reserve",
    hint: "the sender cancels the unlock (`segmint deposit cancel-unlock`) or funds a new account",
    wire: "INSUFFICIENT_BALANCE",
  },
  SENDER_FUNDS_TOO_LOW: {
    owner: "payments",
    title: "the sender's deposit and reserve cannot back a ticket worth redeeming",
    hint: "the sender adds to its deposit and reserve (`segmint deposit fund`)",
    wire: "INSUFFICIENT_BALANCE",
  },
  ORCHESTRATOR_NOT_ACTIVE: {
    owner: "payments",
    title: "this orchestrator has no seat in the active set this round, so no ticket can pay it",
    hint: "bond more stake (`segmint stake bond`) and wait for the next round",
    wire: "NOT_ACTIVE",
  },
  BAD_TICKET_PARAMS: {
    owner: "payments",
    title: "an orchestrator sent malformed ticket params",
    hint: "this orchestrator is misbehaving or runs an incompatible version",
  },
  PRICE_TOO_HIGH: {
    owner: "payments",
    title: "the orchestrator's price per pixel is above this broadcaster's cap",
    hint: "raise maxPricePerPixel or choose another orchestrator",
  },
  TICKET_EV_TOO_HIGH: {
    owner: "payments",
    title: "one ticket on the orchestrator's params is worth more than this broadcaster's cap",
    hint: "raise maxTicketEV or choose another orchestrator",
  },
  SPEND_CAP_REACHED: {
    owner: "payments",
    title: "paying for the next segment would pass the broadcaster's spend cap",
    hint: "raise --max-spend",
  },
  BAD_PAYMENTS_OPTIONS: {
    owner: "payments",
    title: "the payment settings cannot work (face value, EV, signer)",
    hint: "fix the named payment setting",
  },
  CHAIN_UNAVAILABLE: {
    owner: "payments",
    title: "payments could not read what they need from the chain",
    hint: "check the JSON-RPC endpoint and the deployment addresses",
  },

  // Storage.
  STORE_OPEN_FAILED: {
    owner: "store",
    title: "the database cannot be opened",
    hint: "check the data directory exists and is writable",
  },
  STORE_NOT_FOUND: {
    owner: "store",
    title: "no store where a reader looked (a reader never creates one)",
    hint: "pass the --data-dir the orchestrator runs with",
  },
  STORE_SCHEMA_TOO_NEW: {
    owner: "store",
    title: "the database was written by a newer Segmint",
    hint: "upgrade Segmint or point it at another data directory",
  },
  STORE_CORRUPT_ROW: {
    owner: "store",
    title: "a row of the ticket journal holds a value of the wrong type",
    hint: "restore the data directory from a backup; the message names the column",
  },

  // Orchestrator daemon.
  TICKET_PARAMS_INVALID: {
    owner: "orchestrator",
    title: "the ticket settings (EV, face value, win probability) cannot work together",
    hint: "set at most two of --ticket-ev, --face-value and --win-prob (operator guide, section 5)",
  },
  FACE_VALUE_BELOW_GAS: {
    owner: "orchestrator",
    title: "a winning ticket's face value would not pay for its redemption gas",
    hint: "raise --face-value, or let the node derive it (100x the redemption gas)",
  },
  NODE_STOPPING: {
    owner: "orchestrator",
    title: "start-up was interrupted by a stop request",
    hint: "nothing to fix: start the node again",
  },
  DATA_DIR_IN_USE: {
    owner: "orchestrator",
    title: "another live orchestrator holds this data directory",
    hint: "stop the other orchestrator, or give this one another --data-dir",
  },
  KEY_IN_USE: {
    owner: "orchestrator",
    title: "another live orchestrator on this machine signs with this key on this chain",
    hint: "stop the other orchestrator; one key runs one orchestrator per chain",
  },
  P2P_PORT_IN_USE: {
    owner: "orchestrator",
    title: "a fixed libp2p listen port is taken or needs privileges (found before any transaction)",
    hint: "pass another --listen port, or stop what holds it",
  },
  REGISTRATION_LOST: {
    owner: "orchestrator",
    title: "this orchestrator is no longer registered on chain (the chain was reset or redeployed)",
    hint: "run without --no-reregister, or register again with `segmint orchestrator-params`",
  },
  TICKET_PAID_PARTIALLY: {
    owner: "orchestrator",
    title: "a winning ticket paid less than its face value: its sender ran short",
    hint: "nothing to fix for this ticket; smaller tickets spread a sender's risk",
  },
  REDEMPTION_FAILED: {
    owner: "orchestrator",
    title: "a winning ticket could not be redeemed and will not be tried again",
    hint: "read the reason; check the node's ETH for gas and the chain",
  },
  REDEMPTION_RETRY: {
    owner: "orchestrator",
    title: "a redemption failed and is scheduled again",
    hint: "nothing to fix on one occurrence; repeated ones: check the node's ETH and the chain",
  },
  TICKET_EXPIRED: {
    owner: "orchestrator",
    title: "a winning ticket expired before it was redeemed",
    hint: "keep the node running and funded with ETH, so winners are redeemed in time",
  },
  TICKET_UNECONOMIC: {
    owner: "orchestrator",
    title: "a winning ticket is worth less than the gas to redeem it, so it was not sent",
    hint: "raise --face-value or --max-gas-price (operator guide, section 5)",
  },

  // Broadcaster client.
  NO_ORCHESTRATORS: {
    owner: "broadcaster",
    title: "no usable orchestrator was found (none discovered, none answered, all too expensive)",
    hint: "check --bootstrap, that orchestrators are staked and active, and the price cap",
  },
  PINNED_ORCHESTRATORS_UNAVAILABLE: {
    owner: "broadcaster",
    title: "none of the orchestrators pinned with --orchestrator could be used; details say why",
    hint: "check the addresses (`segmint orchestrators`), --bootstrap and the caps, or drop the pins",
  },
  OUT_DIR_NOT_EMPTY: {
    owner: "broadcaster",
    title: "--out holds files of another run (for a broadcast: with no broadcast record for them)",
    hint: "pick an empty folder, or add --overwrite to clear Segmint's HLS files there",
  },
  SPEND_HISTORY_NOT_FOUND: {
    owner: "broadcaster",
    title: "segmint spend found no spend history where it looked",
    hint: "pass the --data-dir your broadcasts ran with",
  },
  SEGMENT_FAILED: {
    owner: "broadcaster",
    title: "a segment failed on every attempt; details list each with its last error",
    hint: "the other segments are kept; add orchestrators or read their logs, then run again",
  },
  VERIFICATION_FAILED: {
    owner: "broadcaster",
    title: "a result did not match what was asked or claimed (hash, signature, size, pictures)",
    hint: "nothing to fix here: the orchestrator is suspended for the stream and not trusted",
  },
  BROADCAST_ABORTED: {
    owner: "broadcaster",
    title: "the broadcast was stopped before it finished; details say what was kept and spent",
    hint: "run the same command again to resume",
  },
  NO_DEPOSIT: {
    owner: "broadcaster",
    title: "the broadcaster has no ticket deposit, so every orchestrator would refuse its tickets",
    hint: "add --deposit/--reserve, or `segmint deposit fund`",
  },
  DEPOSIT_UNLOCKING: {
    owner: "broadcaster",
    title: "the broadcaster's deposit is unlocking, so every orchestrator would refuse its tickets",
    hint: "`segmint deposit cancel-unlock`, or fund a new account",
  },
  REPUTATION_STORE_FAILED: {
    owner: "broadcaster",
    title: "the orchestrator reputation store cannot be opened or was written by a newer Segmint",
    hint: "check the folder is writable, or set another reputation file",
  },
  LIVE_SETTINGS_INVALID: {
    owner: "broadcaster",
    title:
      "the live daemon's settings cannot work together (no stream key, any key off a dev chain)",
    hint: "give --stream-key, or use --allow-any-key only on a local dev chain",
  },
  LIVE_HLS_OPTIONS_INVALID: {
    owner: "broadcaster",
    title: "live HLS was set up with a rendition list or window that cannot work",
    hint: "a wiring fault in the caller: report it with the message",
  },

  // Live broadcaster daemon: why a publisher is refused at connect.
  UNKNOWN_KEY: {
    owner: "live",
    title: "the publisher's stream key is not one this broadcaster takes",
    hint: "publish with a key given to the daemon (--stream-key)",
  },
  KEY_BUSY: {
    owner: "live",
    title: "a publisher is already live on this key",
    hint: "stop the other publisher, or use another key",
  },
  STREAM_LIMIT: {
    owner: "live",
    title: "the broadcaster already runs as many streams as it takes",
    hint: "end a stream, or raise --max-streams",
  },
  CANNOT_PAY: {
    owner: "live",
    title: "the deposit cannot pay for one more stream",
    hint: "fund the deposit (`segmint deposit fund`) or end a stream",
  },

  // RTMP ingest.
  INGEST_PROTOCOL_ERROR: {
    owner: "ingest",
    title: "the bytes on the port are not RTMP (bad handshake, malformed chunks or commands)",
    hint: "publish RTMP to rtmp://HOST:PORT/live/STREAM_KEY",
  },
  INGEST_WRONG_APP: {
    owner: "ingest",
    title: "the URL's application is not `live`",
    hint: "publish to rtmp://HOST:PORT/live/STREAM_KEY",
  },
  INGEST_BAD_KEY: {
    owner: "ingest",
    title: "the stream key is empty or has characters a key cannot have",
    hint: "use a key of up to 128 letters, digits and . _ ~ -",
  },
  INGEST_KEY_REFUSED: {
    owner: "ingest",
    title: "the broadcaster does not take the key now; its reason is logged",
    hint: "read the reason in the message (unknown key, busy, stream limit, funds)",
  },
  INGEST_KEY_BUSY: {
    owner: "ingest",
    title: "another publisher is live on the key",
    hint: "stop it first or use another key (a publisher silent for 3 s is replaced)",
  },
  INGEST_TOO_MANY_STREAMS: {
    owner: "ingest",
    title: "the ingest takes no more streams now (at its limit, or shutting down)",
    hint: "try again later",
  },
  INGEST_NOT_PUBLISHING: {
    owner: "ingest",
    title: "a play request, or no publish command within the connect limit",
    hint: "the RTMP port takes publishers only; watch over HLS",
  },
  INGEST_UNSUPPORTED_CODEC: {
    owner: "ingest",
    title: "video other than H.264, or audio other than AAC or MP3",
    hint: "set the encoder to H.264 video with AAC audio",
  },
  INGEST_NO_VIDEO: {
    owner: "ingest",
    title: "no usable H.264 keyframe arrived within the connect limit",
    hint: "send video, with a keyframe at least every few seconds",
  },
  INGEST_RESOLUTION_TOO_LARGE: {
    owner: "ingest",
    title: "the published picture is larger than the ingest takes",
    hint: "lower the encoder's output resolution",
  },
  INGEST_FRAME_RATE_TOO_HIGH: {
    owner: "ingest",
    title: "the published frame rate is higher than the ingest takes",
    hint: "lower the encoder's frame rate",
  },
  INGEST_BITRATE_TOO_HIGH: {
    owner: "ingest",
    title: "the publisher sends more bits per second than the ingest takes",
    hint: "lower the encoder's bitrate",
  },
  INGEST_IDLE: {
    owner: "ingest",
    title: "the publisher sent nothing for the idle limit (a stalled encoder or a dead link)",
    hint: "check the encoder and the link, then publish again",
  },
  INGEST_LISTEN_FAILED: {
    owner: "ingest",
    title: "the ingest could not listen on its address",
    hint: "choose a free port (--rtmp HOST:PORT) or stop what holds it",
  },
  INGEST_OPTIONS_INVALID: {
    owner: "ingest",
    title: "the ingest's settings fail validation",
    hint: "fix the listed settings",
  },

  // Devnet.
  DEVNET_FUNDER_SHORT: {
    owner: "devnet",
    title: "the devnet's funding account holds too little ETH or too few tokens",
    hint: "pass --key of a funded account, a smaller --fund-eth, or drop --deployment",
  },
  DEVNET_ORCHESTRATOR_FAILED: {
    owner: "devnet",
    title: "an orchestrator process of the devnet exited or never became ready",
    hint: "read the end of its log, quoted in the message",
  },
  DEVNET_ORCHESTRATOR_INACTIVE: {
    owner: "devnet",
    title: "an orchestrator of the devnet is not active after its stake was bonded",
    hint: "read its log, named in the message",
  },
  DEVNET_ORCHESTRATOR_UNLISTED: {
    owner: "devnet",
    title: "an orchestrator of the devnet did not publish its registry entry once seated",
    hint: "read its log, named in the message",
  },
} as const satisfies Record<string, ErrorDescriptor>;

/** Every code in the catalog. `new SegmintError("NOT_A_CODE", ...)` fails to compile. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The codes one owner raises: each subsystem's code union is `CodeOf<"its folder">`. */
export type CodeOf<Owner extends ErrorOwner> = {
  [Code in ErrorCode]: (typeof ERROR_CATALOG)[Code]["owner"] extends Owner ? Code : never;
}[ErrorCode];

/** The descriptor of `code`, or undefined for a string that is no catalog code. */
export function describeError(code: string): ErrorDescriptor | undefined {
  const catalog: Readonly<Record<string, ErrorDescriptor>> = ERROR_CATALOG;
  return Object.hasOwn(catalog, code) ? catalog[code] : undefined;
}

/** The wire code a peer is answered with when a request is refused with `code`, if any. */
export function wireCodeOf(code: string): WireErrorCode | undefined {
  return describeError(code)?.wire;
}
