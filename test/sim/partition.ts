import type { Prng } from './prng.js';

export type PartitionShape = 'split' | 'isolate' | 'oneWay' | 'randomLinks';

/**
 * A set of cut directed links. Any shape is a set of (from, to) pairs: a split cuts both directions
 * between two groups, an isolation cuts one node off, a one-way partition cuts one direction only
 * (a node that hears but is not heard, the case PreVote and CheckQuorum exist for).
 */
export class Partition {
  private readonly cut = new Set<string>();

  constructor(
    readonly shape: PartitionShape | 'none',
    links: Iterable<readonly [from: number, to: number]> = [],
  ) {
    for (const [from, to] of links) this.cut.add(linkKey(from, to));
  }

  static none(): Partition {
    return new Partition('none');
  }

  /** Cuts every link between `groupA` and `groupB`, both ways. */
  static split(groupA: readonly number[], groupB: readonly number[]): Partition {
    const links: Array<[number, number]> = [];
    for (const a of groupA) for (const b of groupB) links.push([a, b], [b, a]);
    return new Partition('split', links);
  }

  static isolate(nodeId: number, nodeIds: readonly number[]): Partition {
    const split = Partition.split([nodeId], nodeIds.filter((other) => other !== nodeId));
    return new Partition('isolate', split.links());
  }

  /** Cuts `from` → each of `targets`, leaving the reverse direction up. */
  static oneWay(from: number, targets: readonly number[]): Partition {
    return new Partition('oneWay', targets.filter((to) => to !== from).map((to) => [from, to] as const));
  }

  blocks(from: number, to: number): boolean {
    return this.cut.has(linkKey(from, to));
  }

  get cutLinkCount(): number {
    return this.cut.size;
  }

  links(): Array<[number, number]> {
    return [...this.cut].map((key) => key.split('>').map(Number) as [number, number]);
  }

  describe(): string {
    if (this.shape === 'none') return 'none';
    return `${this.shape} [${this.links().map(([from, to]) => `${from}>${to}`).join(' ')}]`;
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}

/** Draws a partition of a random shape over `nodeIds` (at least two nodes to cut anything). */
export function drawPartition(random: Prng, nodeIds: readonly number[]): Partition {
  if (nodeIds.length < 2) return Partition.none();
  const shape = random.pick<PartitionShape>(['split', 'split', 'isolate', 'oneWay', 'randomLinks']);
  if (shape === 'isolate') return Partition.isolate(random.pick(nodeIds), nodeIds);
  if (shape === 'oneWay') {
    const from = random.pick(nodeIds);
    const others = nodeIds.filter((other) => other !== from);
    return Partition.oneWay(from, random.shuffle(others).slice(0, random.range(1, others.length)));
  }
  if (shape === 'randomLinks') {
    const links: Array<[number, number]> = [];
    for (const from of nodeIds) for (const to of nodeIds) if (from !== to && random.chance(0.3)) links.push([from, to]);
    return new Partition('randomLinks', links);
  }
  const shuffled = random.shuffle(nodeIds);
  const cutAt = random.range(1, shuffled.length - 1);
  return Partition.split(shuffled.slice(0, cutAt), shuffled.slice(cutAt));
}
