/**
 * Weighted deficit round robin over tenants: decides which tenant the next job is fetched from,
 * each getting jobs in proportion to its plan's weight; fetching, weights and the tenant list come
 * from a {@link TenantSource}. See docs/architecture.md › Fair fetching.
 */

/**
 * What `fetch` answers for a tenant that has work which cannot start here now (it waits for
 * memory): the tenant stays due, but like an empty tenant it loses its deficit, so it gets no
 * burst once its job fits.
 */
export const WAIT = Symbol('wait');

/** Where the scheduler gets tenants, weights and jobs from. */
export interface TenantSource<J> {
  /** Tenants that may have work now; read at the start of every round. */
  dueTenants(): Promise<string[]>;
  /** Plan weight (> 0) of each tenant. */
  weights(tenantIds: readonly string[]): Promise<Map<string, number>>;
  /** One job of the tenant, undefined when it has none it may start now, or WAIT (see there). */
  fetch(tenantId: string): Promise<J | undefined | typeof WAIT>;
  /** Called after an empty fetch (to update the set of tenants with work). */
  empty(tenantId: string): Promise<void>;
}

export class DeficitRoundRobin<J> {
  private round: string[] = [];
  private position = 0;
  private readonly deficits = new Map<string, number>();
  private readonly quanta = new Map<string, number>();

  constructor(private readonly source: TenantSource<J>) {}

  /**
   * The next job in fair order, or undefined once a whole round found nothing to start (the
   * caller waits for work and asks again). Several calls may be in flight at once (a worker
   * fetches from several tenants at a time): a fetch takes its unit of the tenant's deficit before
   * it is sent, so a concurrent call moves on to the next unit — the same tenant while it has
   * deficit left, else the next tenant — and the calls together fetch what one call after
   * another would, without waiting for each other's round trips.
   */
  async next(): Promise<J | undefined> {
    let fruitless = 0;
    for (;;) {
      if (this.position >= this.round.length) {
        await this.startRound();
        if (this.round.length === 0) return undefined;
        // Another call may have moved on while the round was read.
        if (this.position >= this.round.length) continue;
      }
      const round = this.round;
      const tenant = round[this.position] as string;
      const deficit = this.deficits.get(tenant) ?? 0;
      if (deficit >= 1) {
        this.deficits.set(tenant, deficit - 1);
        const job = await this.source.fetch(tenant);
        if (job !== undefined && job !== WAIT) return job;
        this.deficits.set(tenant, 0);
        if (job === undefined) await this.source.empty(tenant);
        // Moved past the tenant already (by a concurrent call, or a new round): nothing to skip.
        if (this.round === round && this.round[this.position] === tenant) this.advance();
      } else this.advance();
      // Every tenant of the round was tried without a job: nothing to do right now.
      if (++fruitless > this.round.length) return undefined;
    }
  }

  /** Deficits, for tests and debugging. */
  snapshot(): { round: readonly string[]; position: number; deficits: ReadonlyMap<string, number> } {
    return { round: this.round, position: this.position, deficits: this.deficits };
  }

  /** A round being read (concurrent calls share it rather than each starting one). */
  private starting: Promise<void> | undefined;

  private startRound(): Promise<void> {
    this.starting ??= this.readRound().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async readRound(): Promise<void> {
    const tenants = await this.source.dueTenants();
    const weights = tenants.length ? await this.source.weights(tenants) : new Map<string, number>();
    const minWeight = Math.min(...tenants.map((t) => weights.get(t) ?? 1));
    this.quanta.clear();
    for (const tenant of tenants) this.quanta.set(tenant, (weights.get(tenant) ?? 1) / minWeight);
    // Tenants that left the round forget their deficit, as an emptied queue does.
    for (const tenant of this.deficits.keys()) if (!this.quanta.has(tenant)) this.deficits.delete(tenant);
    this.round = tenants;
    this.position = 0;
    this.arrive();
  }

  private advance(): void {
    this.position++;
    this.arrive();
  }

  /** Arriving at a tenant tops its deficit up by its quantum. */
  private arrive(): void {
    const tenant = this.round[this.position];
    if (tenant === undefined) return;
    this.deficits.set(tenant, (this.deficits.get(tenant) ?? 0) + (this.quanta.get(tenant) ?? 1));
  }
}
