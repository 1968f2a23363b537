// One signed-in device: its encrypted local state, its keys, and the end-to-end lifecycle —
// the browser twin of the Python SDK's Session (kabar.client.session), speaking the same
// wire formats (docs/e2e.md) and following the same rules:
//
// * keys: identity, 50 signed one-time keys and a fallback key, topped up from the counts in
//   `ready` frames (and after pre-key messages used some);
// * receiving: every stream frame in order; room keys over Olm; Megolm messages checked for
//   franking, conversation, replays and sender device; membership changes rotate or late-share;
// * sending: refresh stale device lists, share (or rotate) the Megolm session, encrypt with a
//   fresh franking key, save the ratchet and an outbox entry *before* transmitting, then send
//   with one txn_id (socket, else HTTP) until acknowledged — a message is never lost.
import { Api, type Ack, type ConversationInfo, type ServerEvent, type ToDeviceEnvelope } from "./api";
import { Directory, Identity, type DeviceKeys } from "./crypto/device";
import { b64encode, randomBytes } from "./crypto/encoding";
import { MegolmMachine, ROOM_KEY, type PickledInbound, type PickledOutbound } from "./crypto/megolm";
import { loadOlm } from "./crypto/olm";
import { OLM_ALGORITHM, OlmMachine, UnknownSenderDevice, type PickledOlmSession, type ToDeviceMessage } from "./crypto/olmMachine";
import { decryptAttachment, encryptAttachment, type AttachmentDescriptor } from "./crypto/primitives";
import { DeviceTracker } from "./devices";
import { EventStream, StreamUnavailable, type StreamFrame } from "./stream";
import { Vault } from "./store";

const TOP_UP_BELOW = 25;
const LEAVES = new Set(["member.left", "member.removed"]);
const ARRIVALS = new Set(["member.joined", "member.devices_changed"]);

export interface Meta {
  username: string;
  device_id: string;
  account_id: string;
  token: string;
  created_at: number;
  keys_published: boolean;
  pickle_key: string;
}

export interface StoredMessage {
  event_id: string;
  conversation_id: string;
  seq: number;
  sender: string;
  sender_device: string;
  ts: number;
  content: Record<string, unknown>;
  message?: string; // base64 of M (for a franked report)
  franking_key?: string;
  notice?: string; // a membership or device notice instead of a message
  utd?: { reason: string; detail: string; session: string; before_device: boolean };
  event?: ServerEvent; // kept while undecryptable, to retry
  pending?: boolean; // in the outbox, not yet acknowledged
}

export interface Conversation {
  conversation_id: string;
  kind: string;
  title: string | null;
  members: Record<string, string>; // username -> role
  member_seq: number;
  my_role: string;
  last_seq: number;
  read_seq: number;
  last_ts: number;
  left: boolean;
}

interface OutboxEntry {
  txn_id: string;
  conversation_id: string;
  envelope: Record<string, string>;
  content: Record<string, unknown>;
  message: string;
  franking_key: string;
  index: number;
  created_at: number;
}

type Listener = () => void;

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class Client {
  readonly api = new Api();
  readonly conversations = new Map<string, Conversation>();
  readonly messages = new Map<string, StoredMessage>();
  connection: "connecting" | "live" | "offline" = "connecting";
  signedOut = false;
  private since: string | null = null;
  private outbox = new Map<string, OutboxEntry>();
  private outlog: Record<string, [string, Array<[number, number]>]> = {};
  private listeners = new Set<Listener>();
  private lock = new Mutex();
  private stream: EventStream | null = null;
  private usedOneTimeKeys = false;
  private pickleKey: string; // libolm takes its pickle key as a string
  readonly tracker: DeviceTracker;
  readonly olm: OlmMachine;
  readonly megolm: MegolmMachine;

  private constructor(
    private vault: Vault,
    readonly meta: Meta,
    readonly identity: Identity,
    directory: Directory,
    owners: Record<string, [string, string]>,
  ) {
    this.api.token = meta.token;
    this.api.onSignedOut = () => this.onSignedOut();
    this.pickleKey = meta.pickle_key;
    this.tracker = new DeviceTracker(this.api, directory, owners, meta.username);
    this.olm = new OlmMachine(identity, directory);
    this.megolm = new MegolmMachine({ curve25519: identity.curve25519, ed25519: identity.ed25519 });
    owners[identity.curve25519] ??= [meta.username, meta.device_id];
  }

  get username(): string {
    return this.meta.username;
  }

  // -- starting ------------------------------------------------------------------------

  static async signUp(username: string, password: string): Promise<Client> {
    await loadOlm();
    const api = new Api();
    return Client.newDevice(await api.register(username, password, deviceName()), password);
  }

  static async signIn(username: string, password: string): Promise<Client> {
    await loadOlm();
    const api = new Api();
    return Client.newDevice(await api.login(username, password, deviceName()), password);
  }

  /** A login is a new device: keys made here, saved before they are published. */
  private static async newDevice(session: { account_id: string; username: string; device_id: string; access_token: string }, password: string): Promise<Client> {
    const vault = await Vault.create(session.username, password);
    const meta: Meta = {
      username: session.username,
      device_id: session.device_id,
      account_id: session.account_id,
      token: session.access_token,
      created_at: Date.now(),
      keys_published: false,
      pickle_key: b64encode(randomBytes(32)),
    };
    const identity = Identity.create(meta.username, meta.device_id);
    const client = new Client(vault, meta, identity, new Directory(), {});
    try {
      const mine = (await client.api.devices()).devices.find((d) => d.current);
      if (mine) meta.created_at = mine.created_at;
    } catch {
      // keep the local clock's time
    }
    await client.save();
    await client.publishKeys();
    return client;
  }

  /** Reopen the device stored in this browser. */
  static async unlock(username: string, password: string): Promise<Client> {
    await loadOlm();
    const vault = await Vault.open(username, password);
    const records = await vault.load();
    const meta = records.get("meta") as Meta;
    const pickleKey = meta.pickle_key;
    const identity = Identity.fromPickle(meta.username, meta.device_id, records.get("account") as string, pickleKey);
    const directory = new Directory((records.get("directory") as never[]) ?? []);
    const owners = (records.get("owners") as Record<string, [string, string]>) ?? {};
    const client = new Client(vault, meta, identity, directory, owners);
    client.since = (records.get("since") as string) ?? null;
    client.outlog = (records.get("outlog") as typeof client.outlog) ?? {};
    const olmSessions: PickledOlmSession[] = [];
    const outbound = new Map<string, PickledOutbound>();
    const inbound: PickledInbound[] = [];
    for (const [name, value] of records) {
      const [kind, rest] = [name.slice(0, name.indexOf("/")), name.slice(name.indexOf("/") + 1)];
      if (kind === "olm") olmSessions.push(value as PickledOlmSession);
      else if (kind === "out") outbound.set(rest, value as PickledOutbound);
      else if (kind === "in") inbound.push(value as PickledInbound);
      else if (kind === "conv") client.conversations.set(rest, value as Conversation);
      else if (kind === "msg") client.messages.set(rest, value as StoredMessage);
      else if (kind === "outbox") client.outbox.set(rest, value as OutboxEntry);
    }
    client.olm.restore(olmSessions, pickleKey);
    client.megolm.restore(outbound, inbound, pickleKey);
    if (!meta.keys_published) await client.publishKeys();
    return client;
  }

  start(): void {
    this.stream = new EventStream(this.meta.token, {
      since: () => this.since,
      process: (frame) => this.lock.run(() => this.processFrame(frame)),
      flush: () => this.lock.run(() => this.save()),
      ready: (frame) => this.lock.run(() => this.onReady(frame)),
      state: (state) => {
        this.connection = state;
        this.changed();
      },
      signedOut: () => this.onSignedOut(),
    });
    this.stream.start();
    void this.drainOutbox();
  }

  stop(): void {
    this.stream?.stop();
    this.stream = null;
  }

  async logout(): Promise<void> {
    this.stop();
    try {
      await this.api.logout();
    } finally {
      await Vault.erase(this.username);
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private onSignedOut(): void {
    this.signedOut = true;
    this.stop();
    this.changed();
  }

  // -- persistence ---------------------------------------------------------------------

  /** Stage every change of the crypto state and commit it (with whatever else was staged). */
  private async save(): Promise<void> {
    const v = this.vault;
    v.stage("meta", this.meta);
    if (this.identity.changed) {
      v.stage("account", this.identity.pickle(this.pickleKey));
      this.identity.changed = false;
    }
    for (const { id, record } of this.olm.changes(this.pickleKey)) v.stage(`olm/${id}`, record);
    for (const [name, record] of this.megolm.changes(this.pickleKey)) v.stage(name, record ?? undefined);
    if (this.tracker.dirty) {
      v.stage("directory", this.tracker.directory.entries());
      v.stage("owners", this.tracker.owners);
      this.tracker.dirty = false;
    }
    v.stage("since", this.since);
    await v.commit();
  }

  private putMessage(m: StoredMessage): void {
    this.messages.set(m.event_id, m);
    this.vault.stage(`msg/${m.event_id}`, m);
  }

  private putConversation(c: Conversation): void {
    this.conversations.set(c.conversation_id, c);
    this.vault.stage(`conv/${c.conversation_id}`, c);
  }

  // -- keys ----------------------------------------------------------------------------

  private async publishKeys(): Promise<void> {
    await this.api.uploadIdentity(this.identity.identityUpload());
    const keys = this.identity.generateOneTimeKeys(50);
    const fallback = this.identity.fallbackKey();
    await this.save(); // private halves first
    await this.api.uploadKeys(keys, fallback);
    this.identity.markPublished();
    this.meta.keys_published = true;
    await this.save();
  }

  private async topUp(count: number, fallbackUnused: boolean): Promise<void> {
    if (count >= TOP_UP_BELOW && fallbackUnused) return;
    const needed = this.identity.oneTimeKeysNeeded(count);
    const keys = needed ? this.identity.generateOneTimeKeys(needed) : [];
    const fallback = fallbackUnused ? null : this.identity.fallbackKey();
    await this.save();
    await this.api.uploadKeys(keys, fallback);
    this.identity.markPublished();
    await this.save();
  }

  private async onReady(frame: StreamFrame): Promise<void> {
    if (typeof frame.token === "string") this.since = frame.token;
    try {
      await this.topUp(Number(frame.one_time_key_count ?? 0), frame.fallback_key_unused !== false);
    } catch (err) {
      console.warn("key top-up failed", err);
    }
    await this.save();
    this.changed();
  }

  // -- receiving -----------------------------------------------------------------------

  private async processFrame(frame: StreamFrame): Promise<void> {
    if (frame.type === "to_device") await this.onToDevice(frame.message as ToDeviceEnvelope);
    else if (frame.type === "event") await this.onEvent(frame.event as ServerEvent);
    if (typeof frame.token === "string") this.since = frame.token;
    if (this.usedOneTimeKeys) {
      this.usedOneTimeKeys = false;
      try {
        const counts = await this.api.call<{ one_time_key_count: number; fallback_key_unused: boolean }>("GET", "/v1/keys/count");
        await this.topUp(counts.one_time_key_count, counts.fallback_key_unused);
      } catch (err) {
        console.warn("key top-up failed", err);
      }
    }
    this.changed();
  }

  private async onToDevice(body: ToDeviceEnvelope): Promise<void> {
    if (body.type !== OLM_ALGORITHM) return;
    let message: ToDeviceMessage;
    try {
      try {
        message = this.olm.decrypt(body.content);
      } catch (err) {
        if (!(err instanceof UnknownSenderDevice)) throw err;
        await this.tracker.refresh([err.plaintext.sender], true);
        message = this.olm.confirm(err.senderKey, err.plaintext);
      }
    } catch (err) {
      console.warn(`dropping a to-device message from ${body.sender}:`, err);
      return;
    } finally {
      if (this.identity.changed) this.usedOneTimeKeys = true;
    }
    if (message.type !== ROOM_KEY) return; // key forwarding between own devices: not yet here
    try {
      if (this.megolm.addRoomKey(message)) {
        await this.retry(String(message.content.conversation_id), `${message.sender_key}|${message.content.session_id}`);
      }
    } catch (err) {
      console.warn("dropping a malformed room key", err);
    }
  }

  private async retry(conversationId: string, session: string): Promise<void> {
    for (const m of [...this.messages.values()]) {
      if (m.utd && m.event && m.utd.session === session && m.conversation_id === conversationId) {
        await this.decryptEvent(m.event);
      }
    }
  }

  private async onEvent(event: ServerEvent): Promise<void> {
    const conversationId = event.conversation_id;
    if (!conversationId) return;
    let conversation = this.conversations.get(conversationId);
    if (!conversation) conversation = await this.learnConversation(conversationId, event);
    if (event.seq) conversation.last_seq = Math.max(conversation.last_seq, event.seq);
    conversation.last_ts = Math.max(conversation.last_ts, event.ts);
    if (event.type === "message") {
      const known = this.messages.get(event.event_id);
      if (!known || known.utd) await this.decryptEvent(event);
    } else {
      await this.onMembership(conversation, event);
    }
    this.putConversation(conversation);
  }

  private async learnConversation(conversationId: string, event: ServerEvent): Promise<Conversation> {
    const conversation: Conversation = {
      conversation_id: conversationId,
      kind: "group",
      title: null,
      members: {},
      member_seq: 0,
      my_role: "member",
      last_seq: 0,
      read_seq: 0,
      last_ts: event.ts,
      left: false,
    };
    if (event.type === "conversation.created") {
      const c = event.content as { kind?: string; title?: string | null; members?: Array<{ username: string; role: string }> };
      conversation.kind = c.kind ?? "group";
      conversation.title = c.title ?? null;
      for (const m of c.members ?? []) conversation.members[m.username] = m.role;
      conversation.member_seq = event.seq ?? 1;
      conversation.my_role = conversation.members[this.username] ?? "member";
    } else {
      try {
        this.applyInfo(conversation, await this.api.conversation(conversationId));
      } catch {
        conversation.left = true; // no longer visible to us: history only
      }
    }
    this.conversations.set(conversationId, conversation);
    return conversation;
  }

  private applyInfo(conversation: Conversation, info: ConversationInfo): void {
    conversation.kind = info.kind;
    conversation.title = info.title;
    conversation.my_role = info.my_role;
    if (info.members) {
      conversation.members = Object.fromEntries(info.members.map((m) => [m.username, m.role]));
      conversation.member_seq = info.last_seq;
    }
  }

  private async onMembership(conversation: Conversation, event: ServerEvent): Promise<void> {
    const content = event.content as { username?: string; role?: string; title?: string; by?: string };
    const username = content.username;
    const seq = event.seq ?? 0;
    if (seq > conversation.member_seq) {
      conversation.member_seq = seq;
      if (event.type === "member.joined" && username) conversation.members[username] = content.role ?? "member";
      if (LEAVES.has(event.type) && username) {
        delete conversation.members[username];
        if (username === this.username) conversation.left = true;
      }
      if (event.type === "member.role_changed" && username) {
        conversation.members[username] = content.role ?? "member";
        if (username === this.username) conversation.my_role = content.role ?? "member";
      }
      if (event.type === "conversation.updated" && content.title) conversation.title = content.title;
    }
    if (LEAVES.has(event.type)) {
      this.rotate(conversation.conversation_id);
    } else if (ARRIVALS.has(event.type) && username) {
      this.tracker.markStale(username);
      if (this.megolm.outboundSessionId(conversation.conversation_id)) {
        try {
          await this.tracker.refresh([username]);
          await this.lateShare(conversation.conversation_id, this.tracker.devicesOf([username]), seq);
        } catch (err) {
          console.warn("late share failed", err);
        }
      }
    }
    const text = noticeText(event, this.username);
    if (text) {
      this.putMessage({
        event_id: event.event_id,
        conversation_id: conversation.conversation_id,
        seq,
        sender: event.sender ?? "",
        sender_device: event.sender_device ?? "",
        ts: event.ts,
        content: {},
        notice: text,
      });
    }
  }

  private async decryptEvent(event: ServerEvent): Promise<void> {
    const conversationId = event.conversation_id!;
    const base = {
      event_id: event.event_id,
      conversation_id: conversationId,
      seq: event.seq ?? 0,
      sender: event.sender ?? "",
      sender_device: event.sender_device ?? "",
      ts: event.ts,
    };
    const result = await this.megolm.decrypt(conversationId, event.event_id, event.content);
    if (!result.ok) {
      const waiting = result.reason === "missing_session" || result.reason === "unknown_index";
      const session = waiting && result.sender_key && result.session_id ? `${result.sender_key}|${result.session_id}` : "";
      const before = event.ts < this.meta.created_at;
      this.putMessage({ ...base, content: {}, event, utd: { reason: result.reason, detail: result.detail, session, before_device: before } });
      return;
    }
    let owner = this.tracker.ownerOf(result.sender_key);
    if (!owner) {
      await this.tracker.refresh([base.sender], true);
      owner = this.tracker.ownerOf(result.sender_key);
    }
    if (owner && (owner[0] !== base.sender || owner[1] !== base.sender_device)) {
      const detail = `the key belongs to ${owner[0]}/${owner[1]}, not ${base.sender}/${base.sender_device}`;
      this.putMessage({ ...base, content: {}, event, utd: { reason: "sender_mismatch", detail, session: "", before_device: false } });
      return;
    }
    this.putMessage({ ...base, content: result.content, message: b64encode(result.message), franking_key: b64encode(result.franking_key) });
  }

  // -- sending -------------------------------------------------------------------------

  async sendText(conversationId: string, text: string): Promise<void> {
    await this.send(conversationId, { type: "m.text", body: text });
  }

  async sendFile(conversationId: string, file: File, caption = ""): Promise<void> {
    const data = new Uint8Array(await file.arrayBuffer());
    const { ciphertext, descriptor } = await encryptAttachment(data, file.name, file.type);
    const blob = await this.api.uploadBlob(ciphertext);
    const attachment = { ...descriptor, blob_id: blob.blob_id };
    await this.send(conversationId, { type: "m.file", body: caption || file.name, attachments: [attachment] });
  }

  async download(attachment: AttachmentDescriptor): Promise<Uint8Array<ArrayBuffer>> {
    return decryptAttachment(await this.api.downloadBlob(attachment.blob_id ?? ""), attachment);
  }

  /** Encrypt and queue one message (saved before it leaves), then transmit it. */
  async send(conversationId: string, content: Record<string, unknown>): Promise<void> {
    const entry = await this.lock.run(async () => {
      const conversation = this.conversations.get(conversationId) ?? (await this.loadConversation(conversationId));
      const members = Object.keys(conversation.members);
      await this.tracker.refresh(members);
      const devices = this.tracker.devicesOf(members);
      await this.shareRoomKey(conversationId, devices);
      const encrypted = await this.megolm.encrypt(conversationId, content);
      const outboxEntry: OutboxEntry = {
        txn_id: b64encode(randomBytes(12)).replace(/[+/]/g, "_"),
        conversation_id: conversationId,
        envelope: encrypted.envelope,
        content,
        message: b64encode(encrypted.message),
        franking_key: b64encode(encrypted.franking_key),
        index: encrypted.index,
        created_at: Date.now(),
      };
      this.outbox.set(outboxEntry.txn_id, outboxEntry);
      this.vault.stage(`outbox/${outboxEntry.txn_id}`, outboxEntry);
      await this.save(); // never reuse a message index, never lose a queued message
      return outboxEntry;
    });
    this.changed();
    await this.transmit(entry);
  }

  pending(conversationId: string): OutboxEntry[] {
    return [...this.outbox.values()].filter((e) => e.conversation_id === conversationId).sort((a, b) => a.created_at - b.created_at);
  }

  private async transmit(entry: OutboxEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.transmitOnce(entry);
        await this.lock.run(() => this.acknowledged(entry, ack));
        this.changed();
        return;
      } catch (err) {
        const status = (err as { status?: number }).status ?? 0;
        if (status >= 400 && status < 500 && status !== 429) {
          await this.lock.run(async () => {
            this.outbox.delete(entry.txn_id);
            this.vault.stage(`outbox/${entry.txn_id}`, undefined);
            await this.save();
          });
          this.changed();
          throw err;
        }
        if (this.signedOut) return;
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  }

  private async transmitOnce(entry: OutboxEntry): Promise<Ack> {
    if (this.stream?.live) {
      try {
        return (await this.stream.send(entry.conversation_id, entry.txn_id, entry.envelope)) as unknown as Ack;
      } catch (err) {
        if (!(err instanceof StreamUnavailable)) throw err;
      }
    }
    return this.api.sendMessage(entry.conversation_id, entry.txn_id, entry.envelope);
  }

  private async acknowledged(entry: OutboxEntry, ack: Ack): Promise<void> {
    const sessionId = entry.envelope.session_id;
    this.megolm.recordOwn(entry.conversation_id, sessionId, entry.index, ack.event_id);
    this.putMessage({
      event_id: ack.event_id,
      conversation_id: entry.conversation_id,
      seq: ack.seq,
      sender: this.username,
      sender_device: this.meta.device_id,
      ts: ack.ts,
      content: entry.content,
      message: entry.message,
      franking_key: entry.franking_key,
    });
    const conversation = this.conversations.get(entry.conversation_id);
    if (conversation) {
      conversation.last_seq = Math.max(conversation.last_seq, ack.seq);
      conversation.read_seq = Math.max(conversation.read_seq, ack.seq);
      conversation.last_ts = Math.max(conversation.last_ts, ack.ts);
      this.putConversation(conversation);
    }
    const log = this.outlog[entry.conversation_id];
    if (!log || log[0] !== sessionId) this.outlog[entry.conversation_id] = [sessionId, [[ack.seq, entry.index]]];
    else log[1].push([ack.seq, entry.index]);
    this.vault.stage("outlog", this.outlog);
    this.outbox.delete(entry.txn_id);
    this.vault.stage(`outbox/${entry.txn_id}`, undefined);
    await this.save();
  }

  private async drainOutbox(): Promise<void> {
    for (const entry of [...this.outbox.values()]) {
      void this.transmit(entry).catch((err) => console.warn("a queued message was refused", err));
    }
  }

  private async shareRoomKey(conversationId: string, devices: DeviceKeys[]): Promise<void> {
    const before = this.megolm.outboundSessionId(conversationId);
    const needing = this.megolm.prepare(conversationId, devices);
    const sessionId = this.megolm.outboundSessionId(conversationId)!;
    if (sessionId !== before) {
      this.outlog[conversationId] = [sessionId, []];
      this.vault.stage("outlog", this.outlog);
    }
    if (needing.length) {
      const delivered = await this.sendEncrypted(this.megolm.roomKey(conversationId), needing);
      this.megolm.markShared(conversationId, delivered);
      await this.save();
    }
  }

  /** Olm-encrypt to each device (claiming one-time keys where we have no session) and send. */
  private async sendEncrypted(content: Record<string, unknown>, devices: DeviceKeys[]): Promise<DeviceKeys[]> {
    const missing = devices.filter((d) => !this.olm.hasSession(d));
    if (missing.length) {
      const claimed = (await this.api.claimKeys(missing.map((d) => d.device_id))).keys;
      for (const device of missing) {
        if (!claimed[device.device_id]) continue;
        try {
          this.olm.createOutboundSession(device, claimed[device.device_id]);
        } catch (err) {
          console.warn(`bad claimed key of ${device.device_id}`, err);
        }
      }
    }
    const targets = devices.filter((d) => this.olm.hasSession(d));
    if (!targets.length) return [];
    const payloads = this.olm.encrypt(content, targets);
    await this.save(); // the Olm ratchet steps hit the disk before the payloads leave
    await this.api.sendToDevice(b64encode(randomBytes(12)).replace(/[+/]/g, "_"), OLM_ALGORITHM, payloads);
    return targets;
  }

  private async lateShare(conversationId: string, devices: DeviceKeys[], afterSeq: number): Promise<void> {
    const sessionId = this.megolm.outboundSessionId(conversationId);
    const log = this.outlog[conversationId];
    if (!sessionId || !log || log[0] !== sessionId) return;
    const indexes = log[1].filter(([seq]) => seq > afterSeq).map(([, index]) => index);
    const shared = this.megolm.sharedWith(conversationId);
    const missed = devices.filter((d) => !shared.has(d.curve25519) && d.curve25519 !== this.identity.curve25519);
    if (!indexes.length || !missed.length) return;
    const delivered = await this.sendEncrypted(this.megolm.roomKeyAt(conversationId, Math.min(...indexes)), missed);
    this.megolm.markShared(conversationId, delivered);
    await this.save();
  }

  private rotate(conversationId: string): void {
    this.megolm.rotate(conversationId);
    if (this.outlog[conversationId]) {
      delete this.outlog[conversationId];
      this.vault.stage("outlog", this.outlog);
    }
  }

  // -- conversations -------------------------------------------------------------------

  private async loadConversation(conversationId: string): Promise<Conversation> {
    const info = await this.api.conversation(conversationId);
    const conversation = this.conversations.get(conversationId) ?? {
      conversation_id: conversationId,
      kind: info.kind,
      title: info.title,
      members: {},
      member_seq: 0,
      my_role: info.my_role,
      last_seq: info.last_seq,
      read_seq: 0,
      last_ts: info.created_at ?? Date.now(),
      left: false,
    };
    this.applyInfo(conversation, info);
    this.putConversation(conversation);
    return conversation;
  }

  async refreshConversation(conversationId: string): Promise<void> {
    await this.lock.run(async () => {
      await this.loadConversation(conversationId);
      await this.save();
    });
    this.changed();
  }

  async openDirect(username: string): Promise<string> {
    const info = await this.api.openDirect(username.replace(/^@/, ""));
    await this.lock.run(async () => {
      await this.loadConversation(info.conversation_id);
      await this.save();
    });
    this.changed();
    return info.conversation_id;
  }

  async createGroup(title: string, usernames: string[]): Promise<string> {
    const info = await this.api.createGroup(title, usernames.map((u) => u.replace(/^@/, "")));
    await this.refreshConversation(info.conversation_id);
    return info.conversation_id;
  }

  async addMembers(conversationId: string, usernames: string[]): Promise<string[]> {
    const { added } = await this.api.addMembers(conversationId, usernames.map((u) => u.replace(/^@/, "")));
    await this.refreshConversation(conversationId);
    return added;
  }

  /** Remove a member; the next message goes under a new Megolm session they never get. */
  async removeMember(conversationId: string, username: string): Promise<void> {
    await this.api.removeMember(conversationId, username);
    await this.lock.run(async () => {
      this.rotate(conversationId);
      await this.loadConversation(conversationId);
      await this.save();
    });
    this.changed();
  }

  timeline(conversationId: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => m.conversation_id === conversationId)
      .sort((a, b) => a.seq - b.seq || a.ts - b.ts);
  }

  unread(conversationId: string): number {
    const c = this.conversations.get(conversationId);
    if (!c) return 0;
    let n = 0;
    for (const m of this.messages.values()) {
      if (m.conversation_id === conversationId && m.seq > c.read_seq && !m.notice && m.sender !== this.username) n++;
    }
    return n;
  }

  async markRead(conversationId: string): Promise<void> {
    const c = this.conversations.get(conversationId);
    if (!c || c.read_seq >= c.last_seq) return;
    c.read_seq = c.last_seq;
    await this.lock.run(async () => {
      this.putConversation(c);
      await this.vault.commit();
    });
    this.changed();
  }

  title(c: Conversation): string {
    if (c.kind === "direct") {
      const other = Object.keys(c.members).find((u) => u !== this.username);
      return other ? `@${other}` : (c.title ?? "direct chat");
    }
    return c.title ?? "group";
  }

  // -- trust and reports ---------------------------------------------------------------

  async safetyNumber(username: string): Promise<{ number: string; devices: DeviceKeys[]; verified: boolean }> {
    const result = await this.lock.run(async () => {
      const found = await this.tracker.safetyNumber(username);
      await this.save();
      return found;
    });
    return result;
  }

  async markVerified(username: string): Promise<void> {
    await this.lock.run(async () => {
      this.tracker.directory.markVerified(username);
      this.tracker.dirty = true;
      await this.save();
    });
    this.changed();
  }

  async ownDevices() {
    const { devices } = await this.api.devices();
    await this.lock.run(async () => {
      await this.tracker.refresh([this.username], true);
      await this.save();
    });
    return devices.map((d) => ({ ...d, verified: d.current || this.tracker.directory.isVerified(this.username, d.device_id) }));
  }

  async revokeDevice(deviceId: string): Promise<void> {
    await this.api.revokeDevice(deviceId);
    this.tracker.markStale(this.username);
  }

  /** A franked report: reveals exactly this message (M and its franking key) to the server. */
  async report(eventId: string, reason: string): Promise<void> {
    const m = this.messages.get(eventId);
    if (!m || !m.message || !m.franking_key) throw new Error("this message cannot be reported from this device");
    const body: Record<string, unknown> = { event_id: eventId, message: m.message, franking_key: m.franking_key };
    if (reason) body.reason = reason;
    await this.api.reportMessage(body);
  }

  takeWarnings() {
    return this.tracker.takeWarnings();
  }
}

function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? "Firefox" : /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chromium" : /Safari\//.test(agent) ? "Safari" : "Browser";
  return `${browser} (web)`;
}

function noticeText(event: ServerEvent, me: string): string {
  const c = event.content as { username?: string; by?: string; title?: string; role?: string };
  const who = (name?: string) => (name === me ? "you" : `@${name}`);
  switch (event.type) {
    case "conversation.created":
      return c.title ? `${who(event.sender)} created “${c.title}”` : "";
    case "conversation.updated":
      return `${who(c.by ?? event.sender)} renamed the group to “${c.title}”`;
    case "member.joined":
      return c.by && c.by !== c.username ? `${who(c.by)} added ${who(c.username)}` : `${who(c.username)} joined`;
    case "member.left":
      return `${who(c.username)} left`;
    case "member.removed":
      return `${who(c.by)} removed ${who(c.username)}`;
    case "member.role_changed":
      return `${who(c.username)} is now ${c.role}`;
    case "member.devices_changed":
      return c.username === me ? "" : `@${c.username} has a new or changed device`;
    default:
      return "";
  }
}
