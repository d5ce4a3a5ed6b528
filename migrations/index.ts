/**
 * The migration list, in order. Migrations are numbered and never edited once released; a change
 * to the schema is a new file appended here.
 */
import type { Knex } from 'knex';
import * as plans from './0001_plans.ts';
import * as tenantsUsers from './0002_tenants_users.ts';
import * as latticesJobs from './0003_lattices_jobs.ts';
import * as webhooks from './0004_webhooks.ts';
import * as usage from './0005_usage.ts';
import * as rowLevelSecurity from './0006_row_level_security.ts';
import * as webhookLeasesAndCaps from './0007_webhook_leases_and_caps.ts';
import * as planRequestsCompute from './0008_plan_requests_compute.ts';
import * as latticeVersionsResultSummaries from './0009_lattice_versions_result_summaries.ts';
import * as identityHardening from './0010_identity_hardening.ts';
import * as jobMemory from './0011_job_memory.ts';
import * as operatorPlanRequests from './0012_operator_plan_requests.ts';
import * as jobStateVersions from './0013_job_state_versions.ts';
import * as newKernelJobTypes from './0014_new_kernel_job_types.ts';
import * as blobs from './0015_blobs.ts';
import * as batches from './0016_batches.ts';
import * as jobLabels from './0017_job_labels.ts';
import * as accountTokens from './0018_account_tokens.ts';
import * as team from './0019_team.ts';
import * as webhookTenantLeases from './0020_webhook_tenant_leases.ts';
import * as notifications from './0021_notifications.ts';
import * as jobArtefactsAsked from './0022_job_artefacts_asked.ts';
import * as pictureLimits from './0023_picture_limits.ts';
import * as jobPartialIndexes from './0024_job_partial_indexes.ts';
import * as jobResultArtefacts from './0025_job_result_artefacts.ts';
import * as jobChunks from './0026_job_chunks.ts';
import * as leanFinalWrite from './0027_lean_final_write.ts';
import * as finishWritePlan from './0028_finish_write_plan.ts';
import * as jobResultsCascade from './0029_job_results_cascade.ts';
import * as jobBatchKey from './0030_job_batch_key.ts';
import * as batchCountEarlyExit from './0031_batch_count_early_exit.ts';
import * as batchEventCountsAfterLock from './0032_batch_event_counts_after_lock.ts';
import * as usageCounterLanes from './0033_usage_counter_lanes.ts';
import * as jobResultsNoTenantIndex from './0034_job_results_no_tenant_index.ts';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['0001_plans', plans],
  ['0002_tenants_users', tenantsUsers],
  ['0003_lattices_jobs', latticesJobs],
  ['0004_webhooks', webhooks],
  ['0005_usage', usage],
  ['0006_row_level_security', rowLevelSecurity],
  ['0007_webhook_leases_and_caps', webhookLeasesAndCaps],
  ['0008_plan_requests_compute', planRequestsCompute],
  ['0009_lattice_versions_result_summaries', latticeVersionsResultSummaries],
  ['0010_identity_hardening', identityHardening],
  ['0011_job_memory', jobMemory],
  ['0012_operator_plan_requests', operatorPlanRequests],
  ['0013_job_state_versions', jobStateVersions],
  ['0014_new_kernel_job_types', newKernelJobTypes],
  ['0015_blobs', blobs],
  ['0016_batches', batches],
  ['0017_job_labels', jobLabels],
  ['0018_account_tokens', accountTokens],
  ['0019_team', team],
  ['0020_webhook_tenant_leases', webhookTenantLeases],
  ['0021_notifications', notifications],
  ['0022_job_artefacts_asked', jobArtefactsAsked],
  ['0023_picture_limits', pictureLimits],
  ['0024_job_partial_indexes', jobPartialIndexes],
  ['0025_job_result_artefacts', jobResultArtefacts],
  ['0026_job_chunks', jobChunks],
  ['0027_lean_final_write', leanFinalWrite],
  ['0028_finish_write_plan', finishWritePlan],
  ['0029_job_results_cascade', jobResultsCascade],
  ['0030_job_batch_key', jobBatchKey],
  ['0031_batch_count_early_exit', batchCountEarlyExit],
  ['0032_batch_event_counts_after_lock', batchEventCountsAfterLock],
  ['0033_usage_counter_lanes', usageCounterLanes],
  ['0034_job_results_no_tenant_index', jobResultsNoTenantIndex],
];
