// Compact sets and maps of 64-bit hashes (two uint32 halves) in typed arrays: 16 bytes per entry at
// the worst load, instead of the ~80 a JavaScript Set of strings costs. They hold the paragraph and
// document hashes of a whole corpus, which must fit in memory when the corpus does not.
//
// Open addressing with linear probing; a slot is empty when both halves are 0, so a key's low half
// is stored with its lowest bit set (63 bits remain: a collision among a billion keys is ~5e-2 %).

const MIN_CAPACITY = 16;

export class HashSet64 {
  protected keys: Uint32Array;
  protected mask: number;
  protected count = 0;

  constructor(capacity = MIN_CAPACITY) {
    const slots = 2 ** Math.ceil(Math.log2(Math.max(MIN_CAPACITY, capacity * 2)));
    this.keys = new Uint32Array(slots * 2);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Memory held, in bytes. */
  get bytes(): number {
    return this.keys.byteLength;
  }

  has(hi: number, lo: number): boolean {
    return this.find(hi >>> 0, (lo | 1) >>> 0) >= 0;
  }

  /** Adds the key; false when it was already there. */
  add(hi: number, lo: number): boolean {
    return this.insert(hi >>> 0, (lo | 1) >>> 0) < 0;
  }

  /** Removes the key (backward-shift deletion keeps every other key findable). */
  delete(hi: number, lo: number): boolean {
    let slot = this.find(hi >>> 0, (lo | 1) >>> 0);
    if (slot < 0) return false;
    for (let next = (slot + 1) & this.mask; this.keys[next * 2 + 1] !== 0; next = (next + 1) & this.mask) {
      const home = this.keys[next * 2]! & this.mask;
      // Move `next` into the hole unless its home lies cyclically in (slot, next].
      const between = slot <= next ? home > slot && home <= next : home > slot || home <= next;
      if (!between) {
        this.moveSlot(next, slot);
        slot = next;
      }
    }
    this.keys[slot * 2] = 0;
    this.keys[slot * 2 + 1] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.keys.fill(0);
    this.count = 0;
  }

  /** Slot of the key, or -1. */
  protected find(hi: number, lo: number): number {
    for (let slot = hi & this.mask; ; slot = (slot + 1) & this.mask) {
      const storedLo = this.keys[slot * 2 + 1]!;
      if (storedLo === 0) return -1;
      if (storedLo === lo && this.keys[slot * 2] === hi) return slot;
    }
  }

  /** Inserts a key that may be present; returns its slot if it was, else -1 - the new slot. */
  protected insert(hi: number, lo: number): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    for (let slot = hi & this.mask; ; slot = (slot + 1) & this.mask) {
      const storedLo = this.keys[slot * 2 + 1]!;
      if (storedLo === 0) {
        this.keys[slot * 2] = hi;
        this.keys[slot * 2 + 1] = lo;
        this.count++;
        return -1 - slot;
      }
      if (storedLo === lo && this.keys[slot * 2] === hi) return slot;
    }
  }

  protected moveSlot(from: number, to: number): void {
    this.keys[to * 2] = this.keys[from * 2]!;
    this.keys[to * 2 + 1] = this.keys[from * 2 + 1]!;
  }

  protected grow(): void {
    const old = this.keys;
    this.keys = new Uint32Array(old.length * 2);
    this.mask = old.length - 1; // slots double: old.length / 2 * 2
    this.count = 0;
    this.rehash(old);
  }

  protected rehash(old: Uint32Array): void {
    for (let slot = 0; slot < old.length / 2; slot++) {
      if (old[slot * 2 + 1] !== 0) this.insert(old[slot * 2]!, old[slot * 2 + 1]!);
    }
  }
}

/** A map from 64-bit hashes to uint32 values (used as the heads of the LSH buckets). */
export class HashMap64 extends HashSet64 {
  private values: Uint32Array;

  constructor(capacity = MIN_CAPACITY) {
    super(capacity);
    this.values = new Uint32Array(this.keys.length / 2);
  }

  override get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  /** The value of the key, or -1. */
  get(hi: number, lo: number): number {
    const slot = this.find(hi >>> 0, (lo | 1) >>> 0);
    return slot < 0 ? -1 : this.values[slot]!;
  }

  set(hi: number, lo: number, value: number): void {
    const found = this.insert(hi >>> 0, (lo | 1) >>> 0);
    this.values[found >= 0 ? found : -1 - found] = value;
  }

  override delete(): boolean {
    throw new Error('HashMap64 does not delete');
  }

  override clear(): void {
    super.clear();
    this.values.fill(0);
  }

  protected override grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Uint32Array(oldKeys.length * 2);
    this.values = new Uint32Array(oldValues.length * 2);
    this.mask = oldValues.length * 2 - 1;
    this.count = 0;
    for (let slot = 0; slot < oldValues.length; slot++) {
      if (oldKeys[slot * 2 + 1] !== 0) this.set(oldKeys[slot * 2]!, oldKeys[slot * 2 + 1]!, oldValues[slot]!);
    }
  }
}
