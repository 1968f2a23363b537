// The send path of one message (kabar.client.outgoing), step by step:
//
// 1. refresh the device lists of members that are stale (new, or announced as changed);
// 2. share the outbound Megolm session with every member device lacking it — starting a new
//    one first if it is old, full, or was shared with a device no longer there;
// 3. encrypt with a fresh franking key and save the ratchet step *and an outbox entry* before
//    anything leaves: an index is never reused and a queued message survives a reload;
// 4. transmit with one txn_id — over the socket when live, else HTTP — until acknowledged
//    (the server's idempotent sends make retries safe);
// 5. keep the message in history, note its index as seen (a replay of our own ciphertext is
//    caught), and log seq → index for late shares.
import type { Ack } from "./api";
import { b64encode } from "./crypto/encoding";
import { type KeySharing, newTxnId } from "./keys";
import type { Conversation, DeviceState, OutboxEntry } from "./state";
import { type EventStream, StreamUnavailable } from "./stream";

export interface Link {
  stream(): EventStream | null;
  signedOut(): boolean;
  changed(): void;
  locked<T>(fn: () => Promise<T>): Promise<T>;
  conversation(conversationId: string): Promise<Conversation>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Outgoing {
  constructor(
    private state: DeviceState,
    private sharing: KeySharing,
    private link: Link,
  ) {}

  /** Encrypt and queue one message (saved before it leaves), then transmit it. */
  async send(conversationId: string, content: Record<string, unknown>): Promise<void> {
    const entry = await this.link.locked(() => this.encrypt(conversationId, content));
    this.link.changed();
    await this.transmit(entry);
  }

  pending(conversationId: string): OutboxEntry[] {
    return [...this.state.outbox.values()].filter((e) => e.conversation_id === conversationId).sort((a, b) => a.created_at - b.created_at);
  }

  /** Transmit whatever a previous session left in the outbox. */
  resume(): void {
    for (const entry of [...this.state.outbox.values()]) {
      this.transmit(entry).catch((err) => console.warn("a queued message was refused", err));
    }
  }

  private async encrypt(conversationId: string, content: Record<string, unknown>): Promise<OutboxEntry> {
    const state = this.state;
    const conversation = await this.link.conversation(conversationId);
    const members = Object.keys(conversation.members);
    await state.tracker.refresh(members);
    await this.sharing.shareRoomKey(conversationId, state.tracker.devicesOf(members));
    const encrypted = await state.megolm.encrypt(conversationId, content);
    const entry: OutboxEntry = {
      txn_id: newTxnId(),
      conversation_id: conversationId,
      envelope: encrypted.envelope,
      content,
      message: b64encode(encrypted.message),
      franking_key: b64encode(encrypted.franking_key),
      index: encrypted.index,
      created_at: Date.now(),
    };
    state.putOutbox(entry);
    await state.save(); // never reuse a message index, never lose a queued message
    return entry;
  }

  private async transmit(entry: OutboxEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.transmitOnce(entry);
        await this.link.locked(() => this.acknowledged(entry, ack));
        this.link.changed();
        return;
      } catch (err) {
        const status = (err as { status?: number }).status ?? 0;
        if (status >= 400 && status < 500 && status !== 429) {
          // Refused for good (not a member any more, too large…): drop it and say so.
          await this.link.locked(async () => {
            this.state.dropOutbox(entry.txn_id);
            await this.state.save();
          });
          this.link.changed();
          throw err;
        }
        if (this.link.signedOut()) return;
        await sleep(Math.min(10_000, 500 * 2 ** attempt));
      }
    }
  }

  private async transmitOnce(entry: OutboxEntry): Promise<Ack> {
    const stream = this.link.stream();
    if (stream?.live) {
      try {
        return (await stream.send(entry.conversation_id, entry.txn_id, entry.envelope)) as unknown as Ack;
      } catch (err) {
        if (!(err instanceof StreamUnavailable)) throw err;
      }
    }
    return this.state.api.sendMessage(entry.conversation_id, entry.txn_id, entry.envelope);
  }

  private async acknowledged(entry: OutboxEntry, ack: Ack): Promise<void> {
    const state = this.state;
    const sessionId = entry.envelope.session_id;
    state.megolm.recordOwn(entry.conversation_id, sessionId, entry.index, ack.event_id);
    state.putMessage({
      event_id: ack.event_id,
      conversation_id: entry.conversation_id,
      seq: ack.seq,
      sender: state.username,
      sender_device: state.meta.device_id,
      ts: ack.ts,
      content: entry.content,
      message: entry.message,
      franking_key: entry.franking_key,
    });
    const conversation = state.conversations.get(entry.conversation_id);
    if (conversation) {
      conversation.last_seq = Math.max(conversation.last_seq, ack.seq);
      conversation.read_seq = Math.max(conversation.read_seq, ack.seq);
      conversation.last_ts = Math.max(conversation.last_ts, ack.ts);
      state.putConversation(conversation);
    }
    this.sharing.recordSend(entry.conversation_id, sessionId, ack.seq, entry.index);
    state.dropOutbox(entry.txn_id);
    await state.save();
  }
}
