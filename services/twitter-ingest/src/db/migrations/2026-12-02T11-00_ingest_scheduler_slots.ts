// The scheduler's per-account slot and its progress row, frozen in @pulse/ingest-kit under a versioned name.
import { ingestSchedulerSlotsV1 } from '@pulse/ingest-kit/migrations'

export const up = ingestSchedulerSlotsV1.up
export const down = ingestSchedulerSlotsV1.down
