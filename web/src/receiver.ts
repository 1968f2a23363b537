// Processing what the stream delivers, in order (kabar.client.receiver):
//
// * to-device (Olm): decrypt and check the sender (fetching an unknown sender's devices
//   first); a room key is filed and every message waiting for it is decrypted again;
// * message: Megolm-decrypt (franking, conversation and replay checks in the machine), then
//   check that the session's Curve25519 key belongs to the device the server names as the
//   sender — otherwise a server could put one member's words in another's mouth;
// * membership: keep the roster current; rotate our session when someone leaves; late-share
//   to a member's new device (or a new member) what we already sent after its announcement.
import type { ServerEvent, ToDeviceEnvelope } from "./api";
import { b64encode } from "./crypto/encoding";
import { ROOM_KEY } from "./crypto/megolm";
import { OLM_ALGORITHM, UnknownSenderDevice, type ToDeviceMessage } from "./crypto/olmMachine";
import type { KeySharing, KeyUpkeep } from "./keys";
import { applyInfo, blankConversation, type Conversation, type DeviceState } from "./state";
import type { StreamFrame } from "./stream";

const LEAVES = new Set(["member.left", "member.removed"]);
const ARRIVALS = new Set(["member.joined", "member.devices_changed"]);

export class Receiver {
  constructor(
    private state: DeviceState,
    private upkeep: KeyUpkeep,
    private sharing: KeySharing,
  ) {}

  async process(frame: StreamFrame): Promise<void> {
    const state = this.state;
    if (frame.type === "to_device") await this.toDevice(frame.message as ToDeviceEnvelope);
    else if (frame.type === "event") await this.event(frame.event as ServerEvent);
    if (typeof frame.token === "string") state.since = frame.token;
    if (state.usedOneTimeKeys) {
      state.usedOneTimeKeys = false;
      try {
        await this.upkeep.check();
      } catch (err) {
        console.warn("key top-up failed", err);
      }
    }
  }

  async ready(frame: StreamFrame): Promise<void> {
    if (typeof frame.token === "string") this.state.since = frame.token;
    try {
      await this.upkeep.topUp(Number(frame.one_time_key_count ?? 0), frame.fallback_key_unused !== false);
    } catch (err) {
      console.warn("key top-up failed", err);
    }
    await this.state.save();
  }

  // -- to-device -----------------------------------------------------------------------

  private async toDevice(body: ToDeviceEnvelope): Promise<void> {
    if (body.type !== OLM_ALGORITHM) return;
    const { olm, tracker, identity, megolm } = this.state;
    let message: ToDeviceMessage;
    try {
      try {
        message = olm.decrypt(body.content);
      } catch (err) {
        if (!(err instanceof UnknownSenderDevice)) throw err;
        await tracker.refresh([err.plaintext.sender], true);
        message = olm.confirm(err.senderKey, err.plaintext);
      }
    } catch (err) {
      console.warn(`dropping a to-device message from ${body.sender}:`, err);
      return;
    } finally {
      if (identity.changed) this.state.usedOneTimeKeys = true;
    }
    if (message.type !== ROOM_KEY) return; // key forwarding between own devices: not in the browser yet
    try {
      if (megolm.addRoomKey(message)) {
        await this.retry(String(message.content.conversation_id), `${message.sender_key}|${message.content.session_id}`);
      }
    } catch (err) {
      console.warn("dropping a malformed room key", err);
    }
  }

  /** Decrypt again every event of the conversation that waited for this session. */
  private async retry(conversationId: string, session: string): Promise<void> {
    for (const m of this.state.timeline(conversationId)) {
      if (m.utd && m.event && m.utd.session === session) await this.decrypt(m.event);
    }
  }

  // -- events --------------------------------------------------------------------------

  private async event(event: ServerEvent): Promise<void> {
    const state = this.state;
    const conversationId = event.conversation_id;
    if (!conversationId) return;
    const conversation = state.conversations.get(conversationId) ?? (await this.learn(conversationId, event));
    if (event.seq) conversation.last_seq = Math.max(conversation.last_seq, event.seq);
    conversation.last_ts = Math.max(conversation.last_ts, event.ts);
    if (event.type === "message") {
      const known = state.messages.get(event.event_id);
      if (!known || known.utd) await this.decrypt(event); // dedupe: our own send, or a repeat
    } else {
      await this.membership(conversation, event);
    }
    state.putConversation(conversation);
  }

  private async learn(conversationId: string, event: ServerEvent): Promise<Conversation> {
    const conversation = blankConversation(conversationId, event.ts);
    if (event.type === "conversation.created") {
      const c = event.content as { kind?: string; title?: string | null; members?: Array<{ username: string; role: string }> };
      conversation.kind = c.kind ?? "group";
      conversation.title = c.title ?? null;
      for (const m of c.members ?? []) conversation.members[m.username] = m.role;
      conversation.member_seq = event.seq ?? 1;
      conversation.my_role = conversation.members[this.state.username] ?? "member";
    } else {
      try {
        applyInfo(conversation, await this.state.api.conversation(conversationId));
      } catch {
        conversation.left = true; // no longer visible to us: history only
      }
    }
    this.state.conversations.set(conversationId, conversation);
    return conversation;
  }

  private async membership(conversation: Conversation, event: ServerEvent): Promise<void> {
    const state = this.state;
    const me = state.username;
    const content = event.content as { username?: string; role?: string; title?: string; by?: string };
    const username = content.username;
    const seq = event.seq ?? 0;
    if (seq > conversation.member_seq) {
      // Only events newer than the roster we hold change it (replays never undo it).
      conversation.member_seq = seq;
      if (event.type === "member.joined" && username) conversation.members[username] = content.role ?? "member";
      if (LEAVES.has(event.type) && username) {
        delete conversation.members[username];
        if (username === me) conversation.left = true;
      }
      if (event.type === "member.role_changed" && username) {
        conversation.members[username] = content.role ?? "member";
        if (username === me) conversation.my_role = content.role ?? "member";
      }
      if (event.type === "conversation.updated" && content.title) conversation.title = content.title;
    }
    if (LEAVES.has(event.type)) {
      state.rotate(conversation.conversation_id);
    } else if (ARRIVALS.has(event.type) && username) {
      state.tracker.markStale(username);
      if (state.megolm.outboundSessionId(conversation.conversation_id)) {
        try {
          await state.tracker.refresh([username]);
          await this.sharing.lateShare(conversation.conversation_id, state.tracker.devicesOf([username]), seq);
        } catch (err) {
          console.warn("late share failed", err);
        }
      }
    }
    const text = noticeText(event, me);
    if (text) {
      state.putMessage({
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

  private async decrypt(event: ServerEvent): Promise<void> {
    const state = this.state;
    const conversationId = event.conversation_id!;
    const base = {
      event_id: event.event_id,
      conversation_id: conversationId,
      seq: event.seq ?? 0,
      sender: event.sender ?? "",
      sender_device: event.sender_device ?? "",
      ts: event.ts,
    };
    const result = await state.megolm.decrypt(conversationId, event.event_id, event.content);
    if (!result.ok) {
      const waiting = result.reason === "missing_session" || result.reason === "unknown_index";
      const session = waiting && result.sender_key && result.session_id ? `${result.sender_key}|${result.session_id}` : "";
      const before = event.ts < state.meta.created_at;
      state.putMessage({ ...base, content: {}, event, utd: { reason: result.reason, detail: result.detail, session, before_device: before } });
      return;
    }
    let owner = state.tracker.ownerOf(result.sender_key);
    if (!owner) {
      await state.tracker.refresh([base.sender], true);
      owner = state.tracker.ownerOf(result.sender_key);
    }
    if (owner && (owner[0] !== base.sender || owner[1] !== base.sender_device)) {
      const detail = `the key belongs to ${owner[0]}/${owner[1]}, not ${base.sender}/${base.sender_device}`;
      state.putMessage({ ...base, content: {}, event, utd: { reason: "sender_mismatch", detail, session: "", before_device: false } });
      return;
    }
    state.putMessage({ ...base, content: result.content, message: b64encode(result.message), franking_key: b64encode(result.franking_key) });
  }
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
