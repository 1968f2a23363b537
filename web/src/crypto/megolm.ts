// Megolm conversation messages, wire-compatible with kabar.client.crypto.megolm:
//   envelope {"algorithm": "kabar.megolm.v1", "ciphertext", "session_id", "sender_key",
//             "franking_commitment"}; plaintext canonical {"conversation_id", "content", "franking_key"}.
// Rotation: after 100 messages, 7 days, a member leaving, or a recipient no longer listed.
import type { DeviceKeys } from "./device";
import { b64decode, b64encode, canonicalJson, canonicalText, isObject, randomBytes } from "./encoding";
import { megolmMessageIndex, olm, type InboundGroupSession, type OutboundGroupSession } from "./olm";
import type { ToDeviceMessage } from "./olmMachine";
import { FRANKING_KEY_BYTES, frankingCommit, frankingOpens } from "./primitives";

export const MEGOLM_ALGORITHM = "kabar.megolm.v1";
export const ROOM_KEY = "kabar.room_key";
export const MAX_MESSAGES = 100;
export const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export type FailureReason =
  | "missing_session"
  | "unknown_index"
  | "bad_ciphertext"
  | "franking_mismatch"
  | "wrong_conversation"
  | "replayed_index";

export interface Decrypted {
  ok: true;
  content: Record<string, unknown>;
  sender_key: string;
  session_id: string;
  index: number;
  franking_key: Uint8Array<ArrayBuffer>;
  message: Uint8Array<ArrayBuffer>;
}

export interface DecryptionFailure {
  ok: false;
  reason: FailureReason;
  detail: string;
  sender_key?: string;
  session_id?: string;
}

export interface Encrypted {
  envelope: Record<string, string>;
  franking_key: Uint8Array<ArrayBuffer>;
  message: Uint8Array<ArrayBuffer>;
  index: number;
}

interface Outbound {
  session: OutboundGroupSession;
  createdAt: number;
  sharedWith: Set<string>;
}

interface Inbound {
  conversation_id: string;
  sender_key: string;
  session: InboundGroupSession;
  sender_ed25519: string;
  seen: Record<string, string>; // message index -> event id (the replay log)
}

export interface PickledOutbound {
  pickle: string;
  created_at: number;
  shared_with: string[];
}

export interface PickledInbound {
  conversation_id: string;
  sender_key: string;
  pickle: string;
  sender_ed25519: string;
  seen: Record<string, string>;
}

const inboundId = (conversationId: string, senderKey: string, sessionId: string) =>
  `${conversationId}|${senderKey}|${sessionId}`;

export class MegolmMachine {
  private outbound = new Map<string, Outbound>();
  private inbound = new Map<string, Inbound>();
  private dirtyOut = new Set<string>();
  private discarded = new Set<string>();
  private dirtyIn = new Set<string>();

  constructor(
    private own: { curve25519: string; ed25519: string },
    private now: () => number = Date.now,
  ) {}

  // -- sending -----------------------------------------------------------------------

  /** Make the outbound session current for these devices; return who lacks its key. */
  prepare(conversationId: string, devices: DeviceKeys[]): DeviceKeys[] {
    const targets = devices.filter((d) => d.curve25519 !== this.own.curve25519);
    const current = new Set(targets.map((d) => d.curve25519));
    let out = this.outbound.get(conversationId);
    if (!out || this.expired(out) || [...out.sharedWith].some((k) => !current.has(k))) {
      out = this.start(conversationId);
    }
    const shared = out.sharedWith;
    return targets.filter((d) => !shared.has(d.curve25519));
  }

  roomKey(conversationId: string): Record<string, unknown> {
    const out = this.current(conversationId);
    return {
      type: ROOM_KEY,
      conversation_id: conversationId,
      session_id: out.session.session_id(),
      session_key: out.session.session_key(),
      message_index: out.session.message_index(),
    };
  }

  /** The current session's key readable from `index` on (a late share). */
  roomKeyAt(conversationId: string, index: number): Record<string, unknown> {
    const out = this.current(conversationId);
    const own = this.inbound.get(inboundId(conversationId, this.own.curve25519, out.session.session_id()));
    if (!own) throw new Error("no inbound copy of our own session");
    return {
      type: ROOM_KEY,
      conversation_id: conversationId,
      session_id: out.session.session_id(),
      session_key: own.session.export_session(index),
      message_index: index,
      exported: true,
    };
  }

  sharedWith(conversationId: string): Set<string> {
    return new Set(this.outbound.get(conversationId)?.sharedWith ?? []);
  }

  markShared(conversationId: string, devices: DeviceKeys[]): void {
    const out = this.current(conversationId);
    for (const d of devices) out.sharedWith.add(d.curve25519);
    this.dirtyOut.add(conversationId);
  }

  rotate(conversationId: string): void {
    if (this.outbound.delete(conversationId)) {
      this.dirtyOut.delete(conversationId);
      this.discarded.add(conversationId);
    }
  }

  outboundSessionId(conversationId: string): string | null {
    return this.outbound.get(conversationId)?.session.session_id() ?? null;
  }

  async encrypt(conversationId: string, content: Record<string, unknown>): Promise<Encrypted> {
    const out = this.current(conversationId);
    if (this.expired(out)) throw new Error("outbound session expired: prepare again");
    const frankingKey = randomBytes(FRANKING_KEY_BYTES);
    const message = canonicalJson(content);
    const plaintext = canonicalText({ conversation_id: conversationId, content, franking_key: b64encode(frankingKey) });
    const index = out.session.message_index();
    const envelope = {
      algorithm: MEGOLM_ALGORITHM,
      ciphertext: out.session.encrypt(plaintext),
      session_id: out.session.session_id(),
      sender_key: this.own.curve25519,
      franking_commitment: b64encode(await frankingCommit(frankingKey, message)),
    };
    this.dirtyOut.add(conversationId);
    return { envelope, franking_key: frankingKey, message, index };
  }

  // -- receiving ---------------------------------------------------------------------

  /** Import a room key that came over Olm; its Olm sender is the session's creator. */
  addRoomKey(message: ToDeviceMessage): boolean {
    const c = message.content;
    if (typeof c.conversation_id !== "string" || typeof c.session_key !== "string") throw new Error("malformed room key");
    const session = new (olm().InboundGroupSession)();
    try {
      if (c.exported === true) session.import_session(c.session_key);
      else session.create(c.session_key);
    } catch {
      session.free();
      throw new Error("the room key does not parse");
    }
    if (session.session_id() !== c.session_id) {
      session.free();
      throw new Error("the room key's session_id does not match its key");
    }
    return this.addInbound({
      conversation_id: c.conversation_id,
      sender_key: message.sender_key,
      session,
      sender_ed25519: message.sender_ed25519,
      seen: {},
    });
  }

  hasInbound(conversationId: string, senderKey: string, sessionId: string): boolean {
    return this.inbound.has(inboundId(conversationId, senderKey, sessionId));
  }

  async decrypt(conversationId: string, eventId: string, envelope: unknown): Promise<Decrypted | DecryptionFailure> {
    const e = isObject(envelope) ? envelope : {};
    const fail = (reason: FailureReason, detail: string): DecryptionFailure => ({
      ok: false,
      reason,
      detail,
      sender_key: typeof e.sender_key === "string" ? e.sender_key : undefined,
      session_id: typeof e.session_id === "string" ? e.session_id : undefined,
    });
    const { sender_key, session_id, ciphertext } = e;
    if (e.algorithm !== MEGOLM_ALGORITHM || ![sender_key, session_id, ciphertext].every((v) => typeof v === "string" && v)) {
      return fail("bad_ciphertext", "malformed envelope");
    }
    let commitment: Uint8Array;
    try {
      commitment = b64decode(e.franking_commitment, 32);
    } catch {
      return fail("bad_ciphertext", "malformed envelope");
    }
    const entry = this.inbound.get(inboundId(conversationId, sender_key as string, session_id as string));
    if (!entry) return fail("missing_session", "no key for this session");
    let index: number;
    try {
      index = megolmMessageIndex(ciphertext as string);
    } catch {
      return fail("bad_ciphertext", "the Megolm message does not parse");
    }
    if (index < entry.session.first_known_index()) return fail("unknown_index", "key known only from a later index");
    let plaintext: string;
    try {
      plaintext = entry.session.decrypt(ciphertext as string).plaintext;
    } catch (err) {
      return fail("bad_ciphertext", String(err));
    }
    const opened = openPlaintext(plaintext);
    if (!opened) return fail("bad_ciphertext", "malformed plaintext");
    const message = canonicalJson(opened.content);
    if (!(await frankingOpens(opened.frankingKey, message, commitment))) {
      return fail("franking_mismatch", "content does not open commitment");
    }
    if (opened.conversationId !== conversationId) return fail("wrong_conversation", "sent to another conversation");
    const earlier = entry.seen[index];
    if (earlier !== undefined && earlier !== eventId) return fail("replayed_index", `index already used by ${earlier}`);
    this.recordSeen(entry, index, eventId);
    return {
      ok: true,
      content: opened.content,
      sender_key: sender_key as string,
      session_id: session_id as string,
      index,
      franking_key: opened.frankingKey,
      message,
    };
  }

  /** Note that our own message `index` went out as `eventId` (a replay of it is caught). */
  recordOwn(conversationId: string, sessionId: string, index: number, eventId: string): void {
    const entry = this.inbound.get(inboundId(conversationId, this.own.curve25519, sessionId));
    if (entry) this.recordSeen(entry, index, eventId);
  }

  // -- persistence -------------------------------------------------------------------

  restore(outbound: Map<string, PickledOutbound>, inbound: PickledInbound[], key: string): void {
    for (const [conversationId, record] of outbound) {
      const session = new (olm().OutboundGroupSession)();
      session.unpickle(key, record.pickle);
      this.outbound.set(conversationId, { session, createdAt: record.created_at, sharedWith: new Set(record.shared_with) });
    }
    for (const record of inbound) {
      const session = new (olm().InboundGroupSession)();
      session.unpickle(key, record.pickle);
      const entry = { ...record, session };
      this.inbound.set(inboundId(record.conversation_id, record.sender_key, session.session_id()), entry);
    }
  }

  /** Records to write (value) or delete (null) since the last call, by record name. */
  changes(key: string): Map<string, PickledOutbound | PickledInbound | null> {
    const out = new Map<string, PickledOutbound | PickledInbound | null>();
    for (const id of this.discarded) out.set(`out/${id}`, null);
    for (const id of this.dirtyOut) {
      const o = this.outbound.get(id);
      if (o) out.set(`out/${id}`, { pickle: o.session.pickle(key), created_at: o.createdAt, shared_with: [...o.sharedWith] });
    }
    for (const id of this.dirtyIn) {
      const i = this.inbound.get(id);
      if (i) {
        out.set(`in/${id}`, {
          conversation_id: i.conversation_id,
          sender_key: i.sender_key,
          pickle: i.session.pickle(key),
          sender_ed25519: i.sender_ed25519,
          seen: i.seen,
        });
      }
    }
    this.discarded.clear();
    this.dirtyOut.clear();
    this.dirtyIn.clear();
    return out;
  }

  // -- internals ---------------------------------------------------------------------

  private current(conversationId: string): Outbound {
    const out = this.outbound.get(conversationId);
    if (!out) throw new Error(`no outbound session for ${conversationId}: prepare first`);
    return out;
  }

  private expired(out: Outbound): boolean {
    return out.session.message_index() >= MAX_MESSAGES || this.now() - out.createdAt >= MAX_AGE_MS;
  }

  private start(conversationId: string): Outbound {
    const session = new (olm().OutboundGroupSession)();
    session.create();
    const out = { session, createdAt: this.now(), sharedWith: new Set<string>() };
    this.outbound.set(conversationId, out);
    this.dirtyOut.add(conversationId);
    this.discarded.delete(conversationId);
    // Our own device reads its own messages later (history, echoes).
    const inbound = new (olm().InboundGroupSession)();
    inbound.create(session.session_key());
    this.addInbound({ conversation_id: conversationId, sender_key: this.own.curve25519, session: inbound, sender_ed25519: this.own.ed25519, seen: {} });
    return out;
  }

  /** Keep a new session, or a copy known from an earlier index that is connected to ours. */
  private addInbound(entry: Inbound): boolean {
    const id = inboundId(entry.conversation_id, entry.sender_key, entry.session.session_id());
    const old = this.inbound.get(id);
    if (old) {
      const first = old.session.first_known_index();
      const better = entry.session.first_known_index() < first;
      if (!better || entry.session.export_session(first) !== old.session.export_session(first)) {
        entry.session.free();
        return false;
      }
      entry.seen = old.seen;
      entry.sender_ed25519 = old.sender_ed25519 || entry.sender_ed25519;
      old.session.free();
    }
    this.inbound.set(id, entry);
    this.dirtyIn.add(id);
    return true;
  }

  private recordSeen(entry: Inbound, index: number, eventId: string): void {
    if (entry.seen[index] === undefined) {
      entry.seen[index] = eventId;
      this.dirtyIn.add(inboundId(entry.conversation_id, entry.sender_key, entry.session.session_id()));
    }
  }
}

function openPlaintext(plaintext: string): { conversationId: string; content: Record<string, unknown>; frankingKey: Uint8Array<ArrayBuffer> } | null {
  try {
    const value: unknown = JSON.parse(plaintext);
    if (!isObject(value) || typeof value.conversation_id !== "string" || !isObject(value.content)) return null;
    const frankingKey = b64decode(value.franking_key, FRANKING_KEY_BYTES);
    canonicalText(value.content); // floats cannot be committed
    return { conversationId: value.conversation_id, content: value.content, frankingKey };
  } catch {
    return null;
  }
}
