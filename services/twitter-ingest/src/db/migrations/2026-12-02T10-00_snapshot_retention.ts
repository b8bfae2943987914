// Raw snapshots partitioned by week, with hourly and daily roll-ups, frozen in @pulse/ingest-kit
// under a versioned name (the kit's README: retention).
import { ingestSnapshotRetentionV1 } from '@pulse/ingest-kit/migrations'

export const up = ingestSnapshotRetentionV1.up
export const down = ingestSnapshotRetentionV1.down
