/**
 * The k smallest items of a stream under a total order, in memory bounded by k: a binary max-heap
 * whose root is the largest item kept, so a new item either replaces it or is passed over. The
 * sweep keeps its top points for --verify-top and its plot sample with it, whatever the number of
 * points.
 */
export class SmallestK<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  add(item: T): void {
    if (this.k <= 0) return;
    const h = this.heap;
    if (h.length < this.k) {
      h.push(item);
      this.siftUp(h.length - 1);
    } else if (this.compare(item, h[0]!) < 0) {
      h[0] = item;
      this.siftDown(0);
    }
  }

  /** The items kept, smallest first. */
  sorted(): T[] {
    return [...this.heap].sort(this.compare);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.compare(h[i]!, h[up]!) <= 0) return;
      [h[i], h[up]] = [h[up]!, h[i]!];
      i = up;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let big = i;
      if (l < h.length && this.compare(h[l]!, h[big]!) > 0) big = l;
      if (r < h.length && this.compare(h[r]!, h[big]!) > 0) big = r;
      if (big === i) return;
      [h[i], h[big]] = [h[big]!, h[i]!];
      i = big;
    }
  }
}
