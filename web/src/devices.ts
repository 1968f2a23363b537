// Whose devices we know (kabar.client.devices): device lists from the key directory,
// self-signatures checked, trusted on first use; a list is fresh until the server says it
// changed. Every Curve25519 key's owner is remembered for good, so a message's claimed
// sender device can be checked against the key its Megolm session came from.
import type { Api } from "./api";
import { type DeviceKeys, type Directory, verifiedDevice } from "./crypto/device";
import { safetyNumber } from "./crypto/safety";

export interface DeviceWarning {
  username: string;
  added: string[];
  changed: string[];
  removed: string[];
}

export class DeviceTracker {
  private fresh = new Set<string>();
  warnings: DeviceWarning[] = [];
  dirty = false;

  constructor(
    private api: Api,
    readonly directory: Directory,
    readonly owners: Record<string, [string, string]>,
    private me: string,
  ) {}

  markStale(username: string): void {
    this.fresh.delete(username);
  }

  async refresh(usernames: string[], force = false): Promise<void> {
    const wanted = [...new Set(usernames)].filter((u) => force || !this.fresh.has(u)).sort();
    if (wanted.length === 0) return;
    const found = (await this.api.queryKeys(wanted)).accounts;
    for (const username of wanted) {
      const devices = (found[username] ?? [])
        .map((entry) => verifiedDevice(username, entry))
        .filter((d): d is DeviceKeys => d !== null);
      const firstLook = !this.directory.knows(username);
      const changes = this.directory.update(username, devices);
      for (const d of devices) this.owners[d.curve25519] ??= [d.username, d.device_id];
      if (!firstLook && (changes.added.length || changes.changed.length || changes.removed.length)) {
        const ids = (list: DeviceKeys[]) => list.map((d) => d.device_id);
        this.warnings.push({ username, added: ids(changes.added), changed: ids(changes.changed), removed: ids(changes.removed) });
      }
      this.fresh.add(username);
    }
    this.dirty = true;
  }

  devicesOf(usernames: string[]): DeviceKeys[] {
    return [...new Set(usernames)].sort().flatMap((u) => this.directory.devices(u));
  }

  ownerOf(curve25519: string): [string, string] | undefined {
    return this.owners[curve25519];
  }

  async safetyNumber(username: string): Promise<{ number: string; devices: DeviceKeys[]; verified: boolean }> {
    await this.refresh([this.me, username], true);
    const mine = this.directory.devices(this.me).map((d) => d.ed25519);
    const theirs = this.directory.devices(username);
    if (theirs.length === 0) throw new Error(`${username} has no devices with keys`);
    const number = await safetyNumber(this.me, mine, username, theirs.map((d) => d.ed25519));
    const verified = theirs.every((d) => this.directory.isVerified(username, d.device_id));
    return { number, devices: theirs, verified };
  }

  takeWarnings(): DeviceWarning[] {
    const taken = this.warnings;
    this.warnings = [];
    return taken;
  }
}
