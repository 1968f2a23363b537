// Everything one device holds, in memory and (encrypted) in IndexedDB: its keys and crypto
// machines, conversations, history, outbox and sync token. `save()` stages every change of
// the crypto state beside whatever else was staged and commits it in one transaction.
import type { Api, ConversationInfo, ServerEvent } from "./api";
import { Directory, Identity } from "./crypto/device";
import { MegolmMachine, type PickledInbound, type PickledOutbound } from "./crypto/megolm";
import { OlmMachine, type PickledOlmSession } from "./crypto/olmMachine";
import { DeviceTracker } from "./devices";
import type { Vault } from "./store";

export interface Meta {
  username: string;
  device_id: string;
  account_id: string;
  token: string;
  created_at: number;
  keys_published: boolean;
  pickle_key: string; // libolm takes its pickle key as a string
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

export interface OutboxEntry {
  txn_id: string;
  conversation_id: string;
  envelope: Record<string, string>;
  content: Record<string, unknown>;
  message: string;
  franking_key: string;
  index: number;
  created_at: number;
}

/** conversation id -> [outbound session id, [[seq, message index], …]] of our own sends. */
export type OutboundLog = Record<string, [string, Array<[number, number]>]>;

export class DeviceState {
  readonly conversations = new Map<string, Conversation>();
  readonly messages = new Map<string, StoredMessage>();
  readonly outbox = new Map<string, OutboxEntry>();
  outlog: OutboundLog = {};
  since: string | null = null;
  usedOneTimeKeys = false;
  readonly tracker: DeviceTracker;
  readonly olm: OlmMachine;
  readonly megolm: MegolmMachine;
  private byConversation = new Map<string, Map<string, StoredMessage>>();

  constructor(
    readonly api: Api,
    readonly vault: Vault,
    readonly meta: Meta,
    readonly identity: Identity,
    directory: Directory,
    owners: Record<string, [string, string]>,
  ) {
    this.tracker = new DeviceTracker(api, directory, owners, meta.username);
    this.olm = new OlmMachine(identity, directory);
    this.megolm = new MegolmMachine({ curve25519: identity.curve25519, ed25519: identity.ed25519 });
    owners[identity.curve25519] ??= [meta.username, meta.device_id];
  }

  /** Rebuild a device from its decrypted records. */
  static restore(api: Api, vault: Vault, records: Map<string, unknown>): DeviceState {
    const meta = records.get("meta") as Meta;
    const identity = Identity.fromPickle(meta.username, meta.device_id, records.get("account") as string, meta.pickle_key);
    const directory = new Directory((records.get("directory") as never[]) ?? []);
    const owners = (records.get("owners") as Record<string, [string, string]>) ?? {};
    const state = new DeviceState(api, vault, meta, identity, directory, owners);
    state.since = (records.get("since") as string) ?? null;
    state.outlog = (records.get("outlog") as OutboundLog) ?? {};
    const olmSessions: PickledOlmSession[] = [];
    const outbound = new Map<string, PickledOutbound>();
    const inbound: PickledInbound[] = [];
    for (const [name, value] of records) {
      const slash = name.indexOf("/");
      const [kind, rest] = [name.slice(0, slash), name.slice(slash + 1)];
      if (kind === "olm") olmSessions.push(value as PickledOlmSession);
      else if (kind === "out") outbound.set(rest, value as PickledOutbound);
      else if (kind === "in") inbound.push(value as PickledInbound);
      else if (kind === "conv") state.conversations.set(rest, value as Conversation);
      else if (kind === "msg") state.index(value as StoredMessage);
      else if (kind === "outbox") state.outbox.set(rest, value as OutboxEntry);
    }
    state.olm.restore(olmSessions, meta.pickle_key);
    state.megolm.restore(outbound, inbound, meta.pickle_key);
    return state;
  }

  get username(): string {
    return this.meta.username;
  }

  /** Stage every change of the crypto state and commit it with whatever else was staged. */
  async save(): Promise<void> {
    const v = this.vault;
    const key = this.meta.pickle_key;
    v.stage("meta", this.meta);
    if (this.identity.changed) {
      v.stage("account", this.identity.pickle(key));
      this.identity.changed = false;
    }
    for (const { id, record } of this.olm.changes(key)) v.stage(`olm/${id}`, record);
    for (const [name, record] of this.megolm.changes(key)) v.stage(name, record ?? undefined);
    if (this.tracker.dirty) {
      v.stage("directory", this.tracker.directory.entries());
      v.stage("owners", this.tracker.owners);
      this.tracker.dirty = false;
    }
    v.stage("since", this.since);
    await v.commit();
  }

  putMessage(m: StoredMessage): void {
    this.index(m);
    this.vault.stage(`msg/${m.event_id}`, m);
  }

  putConversation(c: Conversation): void {
    this.conversations.set(c.conversation_id, c);
    this.vault.stage(`conv/${c.conversation_id}`, c);
  }

  putOutbox(entry: OutboxEntry): void {
    this.outbox.set(entry.txn_id, entry);
    this.vault.stage(`outbox/${entry.txn_id}`, entry);
  }

  dropOutbox(txnId: string): void {
    this.outbox.delete(txnId);
    this.vault.stage(`outbox/${txnId}`, undefined);
  }

  stageOutlog(): void {
    this.vault.stage("outlog", this.outlog);
  }

  /** A member left or was removed: the next send starts and shares a new session. */
  rotate(conversationId: string): void {
    this.megolm.rotate(conversationId);
    if (this.outlog[conversationId]) {
      delete this.outlog[conversationId];
      this.stageOutlog();
    }
  }

  timeline(conversationId: string): StoredMessage[] {
    return [...(this.byConversation.get(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq || a.ts - b.ts);
  }

  unread(conversationId: string): number {
    const c = this.conversations.get(conversationId);
    if (!c) return 0;
    let n = 0;
    for (const m of this.byConversation.get(conversationId)?.values() ?? []) {
      if (m.seq > c.read_seq && !m.notice && !m.utd?.before_device && m.sender !== this.username) n++;
    }
    return n;
  }

  private index(m: StoredMessage): void {
    this.messages.set(m.event_id, m);
    let inConversation = this.byConversation.get(m.conversation_id);
    if (!inConversation) this.byConversation.set(m.conversation_id, (inConversation = new Map()));
    inConversation.set(m.event_id, m);
  }
}

export function blankConversation(conversationId: string, ts: number): Conversation {
  return {
    conversation_id: conversationId,
    kind: "group",
    title: null,
    members: {},
    member_seq: 0,
    my_role: "member",
    last_seq: 0,
    read_seq: 0,
    last_ts: ts,
    left: false,
  };
}

/** Take what the server says about a conversation (members as of its `last_seq`). */
export function applyInfo(conversation: Conversation, info: ConversationInfo): void {
  conversation.kind = info.kind;
  conversation.title = info.title;
  conversation.my_role = info.my_role;
  conversation.last_seq = Math.max(conversation.last_seq, info.last_seq);
  if (info.members) {
    conversation.members = Object.fromEntries(info.members.map((m) => [m.username, m.role]));
    conversation.member_seq = info.last_seq;
  }
}
