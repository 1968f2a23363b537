// This device's Olm account and signed keys, and the directory of devices we know
// (kabar.client.crypto.device and .directory; kabar.protocol.signing for what is signed).
import { canonicalJson, isObject } from "./encoding";
import { olm, verifyEd25519, type Account } from "./olm";

export const ONE_TIME_KEY_TARGET = 50;

export interface DeviceKeys {
  username: string;
  device_id: string;
  curve25519: string;
  ed25519: string;
  signature: string;
}

export interface SignedKey {
  key_id: string;
  key: string;
  signature: string;
}

export const identityPayload = (account: string, deviceId: string, curve: string, ed: string) =>
  canonicalJson({ account, device_id: deviceId, curve25519: curve, ed25519: ed });

export const oneTimeKeyPayload = (deviceId: string, keyId: string, key: string, fallback: boolean) =>
  canonicalJson({ device_id: deviceId, key_id: keyId, key, fallback });

const KEY = /^[A-Za-z0-9+/]{43}$/;

/** A device's public identity, if its self-signature checks out (else null). */
export function verifiedDevice(username: string, upload: Record<string, unknown>): DeviceKeys | null {
  const { device_id, curve25519, ed25519, signature } = upload;
  if (![device_id, curve25519, ed25519, signature].every((v) => typeof v === "string" && v)) return null;
  const [d, c, e, s] = [device_id, curve25519, ed25519, signature] as string[];
  if (!KEY.test(c) || !KEY.test(e)) return null;
  if (!verifyEd25519(e, identityPayload(username, d, c, e), s)) return null;
  return { username, device_id: d, curve25519: c, ed25519: e, signature: s };
}

/** Check a claimed one-time (or fallback) key's signature; return the key or throw. */
export function verifyClaimedKey(device: DeviceKeys, claimed: unknown): string {
  if (!isObject(claimed)) throw new Error("malformed claimed key");
  const { key_id, key, signature, fallback } = claimed;
  if (typeof key_id !== "string" || typeof key !== "string" || typeof signature !== "string" || !KEY.test(key)) {
    throw new Error("malformed claimed key");
  }
  const flags = typeof fallback === "boolean" ? [fallback] : [false, true];
  for (const flag of flags) {
    if (verifyEd25519(device.ed25519, oneTimeKeyPayload(device.device_id, key_id, key, flag), signature)) {
      return key;
    }
  }
  throw new Error(`one-time key ${key_id} is not signed by ${device.device_id}`);
}

/** Owns this device's Olm account; `changed` means it must be pickled again. */
export class Identity {
  changed = true;
  readonly curve25519: string;
  readonly ed25519: string;

  constructor(
    readonly username: string,
    readonly deviceId: string,
    readonly account: Account,
  ) {
    const keys = JSON.parse(account.identity_keys()) as { curve25519: string; ed25519: string };
    this.curve25519 = keys.curve25519;
    this.ed25519 = keys.ed25519;
  }

  static create(username: string, deviceId: string): Identity {
    const account = new (olm().Account)();
    account.create();
    return new Identity(username, deviceId, account);
  }

  static fromPickle(username: string, deviceId: string, pickle: string, key: string): Identity {
    const account = new (olm().Account)();
    account.unpickle(key, pickle);
    const identity = new Identity(username, deviceId, account);
    identity.changed = false;
    return identity;
  }

  pickle(key: string): string {
    return this.account.pickle(key);
  }

  sign(message: Uint8Array): string {
    return this.account.sign(message);
  }

  keys(): DeviceKeys {
    const signature = this.sign(identityPayload(this.username, this.deviceId, this.curve25519, this.ed25519));
    return { username: this.username, device_id: this.deviceId, curve25519: this.curve25519, ed25519: this.ed25519, signature };
  }

  identityUpload(): { curve25519: string; ed25519: string; signature: string } {
    const { curve25519, ed25519, signature } = this.keys();
    return { curve25519, ed25519, signature };
  }

  /** Generate up to `count` keys; return every unpublished key, signed (retries are harmless). */
  generateOneTimeKeys(count: number): SignedKey[] {
    const unpublished = () => Object.entries(JSON.parse(this.account.one_time_keys()).curve25519 as Record<string, string>);
    const room = ONE_TIME_KEY_TARGET - unpublished().length;
    if (Math.min(count, room) > 0) {
      this.account.generate_one_time_keys(Math.min(count, room));
      this.changed = true;
    }
    return unpublished()
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([keyId, key]) => this.signed(keyId, key, false));
  }

  /** The unpublished fallback key, or a fresh one if none is pending, signed. */
  fallbackKey(): SignedKey {
    let pending = Object.entries(JSON.parse(this.account.unpublished_fallback_key()).curve25519 ?? {});
    if (pending.length === 0) {
      this.account.generate_fallback_key();
      this.changed = true;
      pending = Object.entries(JSON.parse(this.account.unpublished_fallback_key()).curve25519 ?? {});
    }
    const [keyId, key] = pending[0] as [string, string];
    return this.signed(keyId, key, true);
  }

  markPublished(): void {
    this.account.mark_keys_as_published();
    this.changed = true;
  }

  oneTimeKeysNeeded(remaining: number): number {
    return Math.max(0, ONE_TIME_KEY_TARGET - Math.max(0, remaining));
  }

  private signed(keyId: string, key: string, fallback: boolean): SignedKey {
    return { key_id: keyId, key, signature: this.sign(oneTimeKeyPayload(this.deviceId, keyId, key, fallback)) };
  }
}

interface KnownDevice {
  keys: DeviceKeys;
  verified: boolean;
}

export interface DeviceChanges {
  added: DeviceKeys[];
  changed: DeviceKeys[];
  removed: DeviceKeys[];
}

/** Every device we know, trusted on first use; `verified` after a compared safety number. */
export class Directory {
  private users = new Map<string, Map<string, KnownDevice>>();

  constructor(entries: KnownDevice[] = []) {
    for (const entry of entries) this.put(entry);
  }

  knows(username: string): boolean {
    return this.users.has(username);
  }

  update(username: string, devices: DeviceKeys[]): DeviceChanges {
    const old = this.users.get(username) ?? new Map<string, KnownDevice>();
    const current = new Map(devices.filter((d) => d.username === username).map((d) => [d.device_id, d]));
    const same = (a: DeviceKeys, b: DeviceKeys) => a.curve25519 === b.curve25519 && a.ed25519 === b.ed25519;
    const changes: DeviceChanges = { added: [], changed: [], removed: [] };
    for (const [id, keys] of current) {
      const kept = old.get(id);
      if (!kept) changes.added.push(keys);
      else if (!same(kept.keys, keys)) changes.changed.push(keys);
    }
    for (const [id, entry] of old) if (!current.has(id)) changes.removed.push(entry.keys);
    this.users.set(username, new Map());
    for (const keys of current.values()) {
      const kept = old.get(keys.device_id);
      this.put({ keys, verified: !!kept && kept.verified && same(kept.keys, keys) });
    }
    return changes;
  }

  get(username: string, deviceId: string): DeviceKeys | undefined {
    return this.users.get(username)?.get(deviceId)?.keys;
  }

  devices(username: string): DeviceKeys[] {
    const entries = [...(this.users.get(username)?.values() ?? [])];
    return entries.map((e) => e.keys).sort((a, b) => (a.device_id < b.device_id ? -1 : 1));
  }

  isVerified(username: string, deviceId: string): boolean {
    return this.users.get(username)?.get(deviceId)?.verified ?? false;
  }

  markVerified(username: string): void {
    for (const entry of this.users.get(username)?.values() ?? []) entry.verified = true;
  }

  entries(): KnownDevice[] {
    return [...this.users.values()].flatMap((m) => [...m.values()]);
  }

  private put(entry: KnownDevice): void {
    if (!this.users.has(entry.keys.username)) this.users.set(entry.keys.username, new Map());
    this.users.get(entry.keys.username)!.set(entry.keys.device_id, entry);
  }
}
