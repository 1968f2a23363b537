// Keys on the server and keys to other devices (kabar.client.upkeep and .sharing):
//
// * KeyUpkeep — publish identity, 50 signed one-time keys and a fallback key once, then top
//   up when the server's count falls below half or the fallback key was used. Private halves
//   are saved before public halves leave; keys are marked published only once accepted.
// * KeySharing — Olm-encrypt to devices (claiming a one-time key where there is no session,
//   saving the ratchet before the payloads leave); share or rotate a conversation's Megolm
//   session before a send; late-share the current session to a device announced after we
//   had already sent with it, from the first message it should read.
import type { DeviceKeys } from "./crypto/device";
import { ONE_TIME_KEY_TARGET } from "./crypto/device";
import { b64encode, randomBytes } from "./crypto/encoding";
import { OLM_ALGORITHM } from "./crypto/olmMachine";
import type { DeviceState } from "./state";

const TOP_UP_BELOW = ONE_TIME_KEY_TARGET / 2;

export const newTxnId = (): string => b64encode(randomBytes(12)).replace(/[+/]/g, "_");

export class KeyUpkeep {
  constructor(private state: DeviceState) {}

  async publish(): Promise<void> {
    const { api, identity, meta } = this.state;
    if (meta.keys_published) return;
    await api.uploadIdentity(identity.identityUpload());
    const keys = identity.generateOneTimeKeys(ONE_TIME_KEY_TARGET);
    const fallback = identity.fallbackKey();
    await this.state.save(); // private halves first
    await api.uploadKeys(keys, fallback);
    identity.markPublished();
    meta.keys_published = true;
    await this.state.save();
  }

  async topUp(count: number, fallbackUnused: boolean): Promise<void> {
    if (count >= TOP_UP_BELOW && fallbackUnused) return;
    const { api, identity } = this.state;
    const needed = identity.oneTimeKeysNeeded(count);
    const keys = needed ? identity.generateOneTimeKeys(needed) : [];
    const fallback = fallbackUnused ? null : identity.fallbackKey();
    await this.state.save();
    await api.uploadKeys(keys, fallback);
    identity.markPublished();
    await this.state.save();
  }

  /** Ask the server for the count (after pre-key messages used some keys up). */
  async check(): Promise<void> {
    const counts = await this.state.api.call<{ one_time_key_count: number; fallback_key_unused: boolean }>("GET", "/v1/keys/count");
    await this.topUp(counts.one_time_key_count, counts.fallback_key_unused);
  }
}

export class KeySharing {
  constructor(private state: DeviceState) {}

  /** Olm-encrypt `content` to each device and send it; return who it went to. */
  async sendEncrypted(content: Record<string, unknown>, devices: DeviceKeys[]): Promise<DeviceKeys[]> {
    const { api, olm } = this.state;
    const missing = devices.filter((d) => !olm.hasSession(d));
    if (missing.length) {
      const claimed = (await api.claimKeys(missing.map((d) => d.device_id))).keys;
      for (const device of missing) {
        if (!claimed[device.device_id]) continue; // no key left: it gets the key next time
        try {
          olm.createOutboundSession(device, claimed[device.device_id]);
        } catch (err) {
          console.warn(`bad claimed key of ${device.device_id}`, err);
        }
      }
    }
    const targets = devices.filter((d) => olm.hasSession(d));
    if (!targets.length) return [];
    const payloads = olm.encrypt(content, targets);
    await this.state.save(); // the Olm ratchet steps hit the disk before the payloads leave
    await api.sendToDevice(newTxnId(), OLM_ALGORITHM, payloads);
    return targets;
  }

  /** Make the outbound session current and shared with every device lacking its key. */
  async shareRoomKey(conversationId: string, devices: DeviceKeys[]): Promise<void> {
    const { megolm } = this.state;
    const before = megolm.outboundSessionId(conversationId);
    const needing = megolm.prepare(conversationId, devices);
    const sessionId = megolm.outboundSessionId(conversationId)!;
    if (sessionId !== before) {
      this.state.outlog[conversationId] = [sessionId, []];
      this.state.stageOutlog();
    }
    if (needing.length) {
      const delivered = await this.sendEncrypted(megolm.roomKey(conversationId), needing);
      megolm.markShared(conversationId, delivered);
      await this.state.save();
    }
  }

  /** Remember which message index went out at which seq (for late shares). */
  recordSend(conversationId: string, sessionId: string, seq: number, index: number): void {
    const log = this.state.outlog[conversationId];
    if (!log || log[0] !== sessionId) this.state.outlog[conversationId] = [sessionId, [[seq, index]]];
    else log[1].push([seq, index]);
    this.state.stageOutlog();
  }

  /** Give `devices` the current session from our first message after `afterSeq`. */
  async lateShare(conversationId: string, devices: DeviceKeys[], afterSeq: number): Promise<void> {
    const { megolm, identity } = this.state;
    const sessionId = megolm.outboundSessionId(conversationId);
    const log = this.state.outlog[conversationId];
    if (!sessionId || !log || log[0] !== sessionId) return;
    const indexes = log[1].filter(([seq]) => seq > afterSeq).map(([, index]) => index);
    const shared = megolm.sharedWith(conversationId);
    const missed = devices.filter((d) => !shared.has(d.curve25519) && d.curve25519 !== identity.curve25519);
    if (!indexes.length || !missed.length) return;
    const delivered = await this.sendEncrypted(megolm.roomKeyAt(conversationId, Math.min(...indexes)), missed);
    megolm.markShared(conversationId, delivered);
    await this.state.save();
  }
}
