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
   * caller waits for work and asks again).
   */
  async next(): Promise<J | undefined> {
    let fruitless = 0;
    for (;;) {
      if (this.position >= this.round.length) {
        await this.startRound();
        if (this.round.length === 0) return undefined;
      }
      const tenant = this.round[this.position] as string;
      if ((this.deficits.get(tenant) ?? 0) >= 1) {
        const job = await this.source.fetch(tenant);
        if (job !== undefined && job !== WAIT) {
          this.deficits.set(tenant, (this.deficits.get(tenant) ?? 0) - 1);
          return job;
        }
        this.deficits.set(tenant, 0);
        if (job === undefined) await this.source.empty(tenant);
      }
      this.advance();
      // Every tenant of the round was tried without a job: nothing to do right now.
      if (++fruitless > this.round.length) return undefined;
    }
  }

  /** Deficits, for tests and debugging. */
  snapshot(): { round: readonly string[]; position: number; deficits: ReadonlyMap<string, number> } {
    return { round: this.round, position: this.position, deficits: this.deficits };
  }

  private async startRound(): Promise<void> {
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
