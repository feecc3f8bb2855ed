// A FIFO on a ring that grows as needed and never shrinks, so that steady
// use allocates nothing and taking from the front is O(1) (unlike
// Array.prototype.shift on long arrays).

export class Queue<T> {
  private ring: (T | undefined)[] = [];
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(v: T): void {
    if (this.size === this.ring.length) {
      const ring = new Array<T | undefined>(Math.max(8, 2 * this.ring.length));
      for (let i = 0; i < this.size; i++) ring[i] = this.ring[(this.head + i) % this.ring.length];
      this.ring = ring;
      this.head = 0;
    }
    this.ring[(this.head + this.size) % this.ring.length] = v;
    this.size++;
  }

  /** The front item; the queue must not be empty. */
  peek(): T {
    return this.ring[this.head] as T;
  }

  /** The back item; the queue must not be empty. */
  peekLast(): T {
    return this.ring[(this.head + this.size - 1) % this.ring.length] as T;
  }

  /** Takes the front item; the queue must not be empty. */
  shift(): T {
    const v = this.ring[this.head] as T;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return v;
  }

  /** Removes the first item equal to v, if any (O(n): for rare removals such as an aborted wait). */
  remove(v: T): boolean {
    for (let i = 0; i < this.size; i++) {
      if (this.ring[(this.head + i) % this.ring.length] !== v) continue;
      for (let j = i; j < this.size - 1; j++) {
        this.ring[(this.head + j) % this.ring.length] = this.ring[(this.head + j + 1) % this.ring.length];
      }
      this.ring[(this.head + this.size - 1) % this.ring.length] = undefined;
      this.size--;
      return true;
    }
    return false;
  }

  /** Empties the queue and returns what it held, front first. */
  drain(): T[] {
    const items: T[] = [];
    while (this.size > 0) items.push(this.shift());
    return items;
  }
}
