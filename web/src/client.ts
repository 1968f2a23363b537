// One signed-in device — the browser twin of the Python SDK's Session (kabar.client.session),
// speaking the same wire formats (docs/e2e.md, docs/web.md). It owns the device's state
// (state.ts), its keys (keys.ts), the stream (stream.ts) feeding the receiver (receiver.ts),
// and the outbox (outgoing.ts). One lock serialises every use of the crypto state.
import { Api } from "./api";
import { Directory, Identity, type DeviceKeys } from "./crypto/device";
import { b64encode, randomBytes } from "./crypto/encoding";
import { loadOlm } from "./crypto/olm";
import { decryptAttachment, encryptAttachment, type AttachmentDescriptor } from "./crypto/primitives";
import { KeySharing, KeyUpkeep } from "./keys";
import { Outgoing } from "./outgoing";
import { PublicApi } from "./publicApi";
import { Receiver } from "./receiver";
import { applyInfo, blankConversation, type Conversation, DeviceState, type Meta, type OutboxEntry, type StoredMessage } from "./state";
import { Vault } from "./store";
import { EventStream } from "./stream";

export type { Conversation, StoredMessage } from "./state";

type Listener = () => void;
/** A stream event that is not about a conversation (`article.published`, `moderation.notice`). */
export type PublicListener = (type: string, content: Record<string, unknown>, eventId: string) => void;
const PUBLIC_EVENTS = new Set(["article.published", "moderation.notice"]);

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
  connection: "connecting" | "live" | "offline" = "connecting";
  signedOut = false;
  private listeners = new Set<Listener>();
  private publicListeners = new Set<PublicListener>();
  /** The public accounts, articles, feed and notices API, signed in as this device. */
  readonly public: PublicApi;
  private lock = new Mutex();
  private stream: EventStream | null = null;
  private upkeep: KeyUpkeep;
  private sharing: KeySharing;
  private receiver: Receiver;
  private outgoing: Outgoing;

  private constructor(private state: DeviceState) {
    state.api.token = state.meta.token;
    state.api.onSignedOut = () => this.onSignedOut();
    this.public = new PublicApi(state.api);
    this.upkeep = new KeyUpkeep(state);
    this.sharing = new KeySharing(state);
    this.receiver = new Receiver(state, this.upkeep, this.sharing);
    this.outgoing = new Outgoing(state, this.sharing, {
      stream: () => this.stream,
      signedOut: () => this.signedOut,
      changed: () => this.changed(),
      locked: (fn) => this.lock.run(fn),
      conversation: async (id) => state.conversations.get(id) ?? (await this.loadConversation(id)),
    });
  }

  get username(): string {
    return this.state.username;
  }

  get identity(): Identity {
    return this.state.identity;
  }

  get conversations(): Map<string, Conversation> {
    return this.state.conversations;
  }

  // -- starting ------------------------------------------------------------------------

  static async signUp(username: string, password: string): Promise<Client> {
    await loadOlm();
    return Client.newDevice(await new Api().register(username, password, deviceName()), password);
  }

  static async signIn(username: string, password: string): Promise<Client> {
    await loadOlm();
    return Client.newDevice(await new Api().login(username, password, deviceName()), password);
  }

  /** A login is a new device: keys made here, saved before they are published. */
  private static async newDevice(
    session: { account_id: string; username: string; device_id: string; access_token: string },
    password: string,
  ): Promise<Client> {
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
    const client = new Client(new DeviceState(new Api(), vault, meta, identity, new Directory(), {}));
    try {
      const mine = (await client.state.api.devices()).devices.find((d) => d.current);
      if (mine) meta.created_at = mine.created_at;
    } catch {
      // keep the local clock's time
    }
    await client.state.save();
    await client.upkeep.publish();
    return client;
  }

  /** Reopen the device stored in this browser (nothing goes to the server). */
  static async unlock(username: string, password: string): Promise<Client> {
    await loadOlm();
    const vault = await Vault.open(username, password);
    const client = new Client(DeviceState.restore(new Api(), vault, await vault.load()));
    await client.upkeep.publish(); // a no-op unless the first attempt failed
    return client;
  }

  start(): void {
    this.stream = new EventStream(this.state.meta.token, {
      since: () => this.state.since,
      process: async (frame) => {
        await this.lock.run(() => this.receiver.process(frame));
        this.changed();
        const event = frame.type === "event" ? (frame.event as { type?: string; content?: Record<string, unknown>; event_id?: string } | undefined) : undefined;
        // A moderator removed the article: its stored event is redacted to { article_id, removed }.
        const redacted = event?.type === "article.published" && event.content?.removed === true;
        if (event?.type && PUBLIC_EVENTS.has(event.type) && !redacted) {
          for (const listener of this.publicListeners) {
            try {
              listener(event.type, event.content ?? {}, event.event_id ?? "");
            } catch (err) {
              console.warn("a public event listener failed", err); // never stalls the stream
            }
          }
        }
      },
      flush: () => this.lock.run(() => this.state.save()),
      ready: async (frame) => {
        await this.lock.run(() => this.receiver.ready(frame));
        this.changed();
      },
      state: (state) => {
        this.connection = state;
        this.changed();
      },
      signedOut: () => this.onSignedOut(),
    });
    this.stream.start();
    this.outgoing.resume();
  }

  stop(): void {
    this.stream?.stop();
    this.stream = null;
  }

  async logout(): Promise<void> {
    this.stop();
    try {
      await this.state.api.logout();
    } finally {
      await Vault.erase(this.username);
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hear `article.published` and `moderation.notice` as they arrive (also on catch-up);
   * `article.published` events of removed articles (`{ article_id, removed: true }`) are skipped. */
  onPublicEvent(listener: PublicListener): () => void {
    this.publicListeners.add(listener);
    return () => this.publicListeners.delete(listener);
  }

  get deviceId(): string {
    return this.state.meta.device_id;
  }

  /** This device's Ed25519 signature (unpadded base64) of `message`, e.g. an article revision. */
  sign(message: Uint8Array): string {
    return this.state.identity.sign(message);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** The server no longer knows this device (revoked, or the account is gone): its keys are
   * useless, so its local store is deleted, as the SDK's logout does. */
  private onSignedOut(): void {
    if (this.signedOut) return;
    this.signedOut = true;
    this.stop();
    void Vault.erase(this.username).finally(() => this.changed());
  }

  // -- messages ------------------------------------------------------------------------

  sendText(conversationId: string, text: string): Promise<void> {
    return this.outgoing.send(conversationId, { type: "m.text", body: text });
  }

  /** Encrypt the file here, upload the ciphertext as a blob, send its key in the message. */
  async sendFile(conversationId: string, file: File, caption = ""): Promise<void> {
    const data = new Uint8Array(await file.arrayBuffer());
    const { ciphertext, descriptor } = await encryptAttachment(data, file.name, file.type);
    const blob = await this.state.api.uploadBlob(ciphertext);
    const attachment = { ...descriptor, blob_id: blob.blob_id };
    await this.outgoing.send(conversationId, { type: "m.file", body: caption || file.name, attachments: [attachment] });
  }

  async download(attachment: AttachmentDescriptor): Promise<Uint8Array<ArrayBuffer>> {
    return decryptAttachment(await this.state.api.downloadBlob(attachment.blob_id ?? ""), attachment);
  }

  pending(conversationId: string): OutboxEntry[] {
    return this.outgoing.pending(conversationId);
  }

  timeline(conversationId: string): StoredMessage[] {
    return this.state.timeline(conversationId);
  }

  unread(conversationId: string): number {
    return this.state.unread(conversationId);
  }

  async markRead(conversationId: string): Promise<void> {
    const c = this.state.conversations.get(conversationId);
    if (!c || c.read_seq >= c.last_seq) return;
    c.read_seq = c.last_seq;
    await this.lock.run(async () => {
      this.state.putConversation(c);
      await this.state.vault.commit();
    });
    this.changed();
  }

  /** A franked report: reveals exactly this message (M and its franking key) to the server. */
  async report(eventId: string, reason: string): Promise<void> {
    const m = this.state.messages.get(eventId);
    if (!m || !m.message || !m.franking_key) throw new Error("this message cannot be reported from this device");
    const body: Record<string, unknown> = { event_id: eventId, message: m.message, franking_key: m.franking_key };
    if (reason) body.reason = reason;
    await this.state.api.reportMessage(body);
  }

  // -- conversations -------------------------------------------------------------------

  private async loadConversation(conversationId: string): Promise<Conversation> {
    const info = await this.state.api.conversation(conversationId);
    const conversation = this.state.conversations.get(conversationId) ?? blankConversation(conversationId, info.created_at ?? Date.now());
    applyInfo(conversation, info);
    this.state.putConversation(conversation);
    return conversation;
  }

  async refreshConversation(conversationId: string): Promise<void> {
    await this.lock.run(async () => {
      await this.loadConversation(conversationId);
      await this.state.save();
    });
    this.changed();
  }

  async openDirect(username: string): Promise<string> {
    const info = await this.state.api.openDirect(username.replace(/^@/, ""));
    await this.refreshConversation(info.conversation_id);
    return info.conversation_id;
  }

  async createGroup(title: string, usernames: string[]): Promise<string> {
    const info = await this.state.api.createGroup(title, usernames.map((u) => u.replace(/^@/, "")));
    await this.refreshConversation(info.conversation_id);
    return info.conversation_id;
  }

  async addMembers(conversationId: string, usernames: string[]): Promise<string[]> {
    const { added } = await this.state.api.addMembers(conversationId, usernames.map((u) => u.replace(/^@/, "")));
    await this.refreshConversation(conversationId);
    return added;
  }

  /** Remove a member; the next message goes under a new Megolm session they never get. */
  async removeMember(conversationId: string, username: string): Promise<void> {
    await this.state.api.removeMember(conversationId, username);
    await this.lock.run(async () => {
      this.state.rotate(conversationId); // do not wait for the event
      await this.loadConversation(conversationId);
      await this.state.save();
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

  // -- devices and trust ---------------------------------------------------------------

  /** The number to compare with `username` (both device lists fetched fresh). */
  safetyNumber(username: string): Promise<{ number: string; devices: DeviceKeys[]; verified: boolean }> {
    return this.lock.run(async () => {
      const found = await this.state.tracker.safetyNumber(username);
      await this.state.save();
      return found;
    });
  }

  async markVerified(username: string): Promise<void> {
    await this.lock.run(async () => {
      this.state.tracker.directory.markVerified(username);
      this.state.tracker.dirty = true;
      await this.state.save();
    });
    this.changed();
  }

  async ownDevices() {
    const { devices } = await this.state.api.devices();
    const tracker = this.state.tracker;
    await this.lock.run(async () => {
      await tracker.refresh([this.username], true);
      await this.state.save();
    });
    return devices.map((d) => ({ ...d, verified: d.current || tracker.directory.isVerified(this.username, d.device_id) }));
  }

  async revokeDevice(deviceId: string): Promise<void> {
    await this.state.api.revokeDevice(deviceId);
    this.state.tracker.markStale(this.username);
  }

  takeWarnings() {
    return this.state.tracker.takeWarnings();
  }
}

function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? "Firefox" : /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chromium" : /Safari\//.test(agent) ? "Safari" : "Browser";
  return `${browser} (web)`;
}
