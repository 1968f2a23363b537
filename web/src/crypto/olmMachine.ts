// Olm to-device encryption, wire-compatible with kabar.client.crypto.olm:
//   {"algorithm": "kabar.olm.v1", "sender_key", "ciphertext": {<recipient curve>: {"type", "body"}}}
// The plaintext (canonical JSON) names sender and recipient; decryption rejects a message
// addressed to another device or whose sender keys do not match the directory.
import { type DeviceKeys, type Directory, type Identity, verifyClaimedKey } from "./device";
import { canonicalText, isObject } from "./encoding";
import { olm, type Session } from "./olm";

export const OLM_ALGORITHM = "kabar.olm.v1";

export interface ToDeviceMessage {
  type: string;
  content: Record<string, unknown>;
  sender: string;
  sender_device: string;
  sender_key: string;
  sender_ed25519: string;
}

/** Decrypted, but from a device not (yet) in the directory. */
export class UnknownSenderDevice extends Error {
  constructor(
    readonly senderKey: string,
    readonly plaintext: Record<string, string> & { content: Record<string, unknown> },
  ) {
    super(`unknown sender device ${plaintext.sender}/${plaintext.sender_device}`);
  }
}

interface Entry {
  session: Session;
  lastUsed: number;
}

export interface PickledOlmSession {
  peer: string;
  pickle: string;
  last_used: number;
}

const FIELDS = ["type", "sender", "sender_device", "sender_ed25519", "recipient", "recipient_device", "recipient_ed25519"];

export class OlmMachine {
  private sessions = new Map<string, Entry[]>();
  private clock = 0;
  private dirty = new Set<Entry>();

  constructor(
    private identity: Identity,
    private directory: Directory,
  ) {}

  restore(records: PickledOlmSession[], key: string): void {
    for (const record of records) {
      const session = new (olm().Session)();
      session.unpickle(key, record.pickle);
      this.list(record.peer).push({ session, lastUsed: record.last_used });
      this.clock = Math.max(this.clock, record.last_used);
    }
    for (const entries of this.sessions.values()) entries.sort((a, b) => b.lastUsed - a.lastUsed);
  }

  hasSession(device: DeviceKeys): boolean {
    return (this.sessions.get(device.curve25519)?.length ?? 0) > 0;
  }

  createOutboundSession(device: DeviceKeys, claimed: unknown): void {
    const oneTimeKey = verifyClaimedKey(device, claimed);
    const session = new (olm().Session)();
    session.create_outbound(this.identity.account, device.curve25519, oneTimeKey);
    this.remember(device.curve25519, session);
  }

  /** One payload per device id; every recipient must have a session. */
  encrypt(content: Record<string, unknown>, recipients: DeviceKeys[]): Record<string, Record<string, unknown>> {
    const me = this.identity;
    const payloads: Record<string, Record<string, unknown>> = {};
    for (const device of recipients) {
      const entry = this.sessions.get(device.curve25519)?.[0];
      if (!entry) throw new Error(`no Olm session with ${device.username}/${device.device_id}`);
      const plaintext = canonicalText({
        type: content.type,
        content,
        sender: me.username,
        sender_device: me.deviceId,
        sender_ed25519: me.ed25519,
        recipient: device.username,
        recipient_device: device.device_id,
        recipient_ed25519: device.ed25519,
      });
      const { type, body } = entry.session.encrypt(plaintext);
      this.touch(device.curve25519, entry);
      payloads[device.device_id] = {
        algorithm: OLM_ALGORITHM,
        sender_key: me.curve25519,
        ciphertext: { [device.curve25519]: { type, body } },
      };
    }
    return payloads;
  }

  /** Decrypt and check a payload; throws UnknownSenderDevice if the directory lacks the sender. */
  decrypt(payload: unknown): ToDeviceMessage {
    if (!isObject(payload) || payload.algorithm !== OLM_ALGORITHM) throw new Error("not a kabar.olm.v1 payload");
    const senderKey = payload.sender_key;
    const mine = isObject(payload.ciphertext) ? payload.ciphertext[this.identity.curve25519] : undefined;
    if (typeof senderKey !== "string" || !isObject(mine)) throw new Error("no ciphertext for this device");
    const type = mine.type;
    if ((type !== 0 && type !== 1) || typeof mine.body !== "string") throw new Error("malformed Olm ciphertext");
    const plaintext = parse(this.decryptBody(senderKey, type, mine.body));
    const me = this.identity;
    if (plaintext.recipient !== me.username || plaintext.recipient_device !== me.deviceId || plaintext.recipient_ed25519 !== me.ed25519) {
      throw new Error("to-device message was addressed to another device");
    }
    return this.confirm(senderKey, plaintext);
  }

  confirm(senderKey: string, text: Record<string, string> & { content: Record<string, unknown> }): ToDeviceMessage {
    const known = this.directory.get(text.sender, text.sender_device);
    if (!known) throw new UnknownSenderDevice(senderKey, text);
    if (known.curve25519 !== senderKey || known.ed25519 !== text.sender_ed25519) {
      throw new Error(`sender keys do not match ${text.sender}/${text.sender_device}`);
    }
    return {
      type: text.type,
      content: text.content,
      sender: known.username,
      sender_device: known.device_id,
      sender_key: known.curve25519,
      sender_ed25519: known.ed25519,
    };
  }

  /** Pickles of sessions touched since the last call. */
  changes(key: string): Array<{ id: string; record: PickledOlmSession }> {
    const out = [];
    for (const entry of this.dirty) {
      const peer = [...this.sessions].find(([, list]) => list.includes(entry))?.[0];
      if (peer === undefined) continue;
      const id = `${peer}|${entry.session.session_id()}`;
      out.push({ id, record: { peer, pickle: entry.session.pickle(key), last_used: entry.lastUsed } });
    }
    this.dirty.clear();
    return out;
  }

  private decryptBody(senderKey: string, type: 0 | 1, body: string): string {
    for (const entry of this.sessions.get(senderKey) ?? []) {
      if (type === 0 && !entry.session.matches_inbound_from(senderKey, body)) continue;
      try {
        const plaintext = entry.session.decrypt(type, body);
        this.touch(senderKey, entry);
        return plaintext;
      } catch {
        continue;
      }
    }
    if (type !== 0) throw new Error(`no Olm session with ${senderKey} decrypts this message`);
    const session = new (olm().Session)();
    try {
      session.create_inbound_from(this.identity.account, senderKey, body);
    } catch (err) {
      session.free();
      throw new Error(`cannot open an Olm session: ${String(err)}`);
    }
    this.identity.account.remove_one_time_keys(session);
    this.identity.changed = true;
    const plaintext = session.decrypt(type, body);
    this.remember(senderKey, session);
    return plaintext;
  }

  private list(peer: string): Entry[] {
    if (!this.sessions.has(peer)) this.sessions.set(peer, []);
    return this.sessions.get(peer)!;
  }

  private remember(peer: string, session: Session): void {
    const entry = { session, lastUsed: 0 };
    this.list(peer).unshift(entry);
    this.touch(peer, entry);
  }

  private touch(peer: string, entry: Entry): void {
    entry.lastUsed = ++this.clock;
    this.list(peer).sort((a, b) => b.lastUsed - a.lastUsed);
    this.dirty.add(entry);
  }
}

function parse(plaintext: string): Record<string, string> & { content: Record<string, unknown> } {
  const value: unknown = JSON.parse(plaintext);
  if (!isObject(value) || !isObject(value.content)) throw new Error("to-device plaintext needs a content object");
  for (const field of FIELDS) {
    if (typeof value[field] !== "string") throw new Error(`to-device plaintext needs a string ${field}`);
  }
  if ((value.content.type ?? value.type) !== value.type) throw new Error("to-device content type disagrees");
  return value as Record<string, string> & { content: Record<string, unknown> };
}
