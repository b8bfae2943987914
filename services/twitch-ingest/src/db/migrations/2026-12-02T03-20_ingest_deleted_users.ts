// The ingest pipeline's hashes of deleted accounts, frozen in @pulse/ingest-kit under a versioned name.
import { ingestDeletedUsersV1 } from '@pulse/ingest-kit/migrations'

export const up = ingestDeletedUsersV1.up
export const down = ingestDeletedUsersV1.down
