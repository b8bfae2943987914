// The ingest pipeline's tables (tracked accounts, processed refresh requests, unlink markers),
// frozen in @pulse/ingest-kit under a versioned name.
import { ingestCoreTablesV1 } from '@pulse/ingest-kit/migrations'

export const up = ingestCoreTablesV1.up
export const down = ingestCoreTablesV1.down
